export * from "./resource-error";
export * from "./violations";
