export * from "./format";
export * from "./run";
