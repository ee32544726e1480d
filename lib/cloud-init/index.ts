export * from "./network-config";
export * from "./user-data";
