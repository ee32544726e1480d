export * from "./binhost-mirror";
export * from "./binhost-mirror-args";
export * from "./binhost-mirror-validate";
export * from "./git";
export * from "./nginx-conf";
export * from "./paths";
export * from "./upload";
