export * from "./environments";
export * from "./git-flow";
export * from "./promote";
export * from "./promote-options";
export * from "./tree-snapshot";
