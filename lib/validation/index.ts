export * from "./resource-error";
export * from "./resource-type";
export * from "./violations";
