export * from "./pushed-files";
export * from "./server";
export * from "./shell";
export * from "./staged-files";
export * from "./validate";
