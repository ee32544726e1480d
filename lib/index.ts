export * from "./validation";
export * from "./pki";
export * from "./snapshot";
