export * from "./binhost-mirror";
export * from "./nginx-conf";
export * from "./paths";
export * from "./upload";
