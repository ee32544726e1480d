export * from "./catalog";
export * from "./model";
export * from "./render";
export * from "./resolve";
export * from "./stack";
export * from "./stack-args";
export * from "./stack-validate";
