export * from "./catalog";
export * from "./model";
export * from "./render";
export * from "./resolve";
export * from "./stack";
