export * from "./nginx-conf";
export * from "./paths";
