export * from "./ipv4";
export * from "./mac";
