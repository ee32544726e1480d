export * from "./names";
export * from "./pushed-files";
export * from "./server";
