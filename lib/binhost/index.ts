export * from "./binhost-mirror";
export * from "./git";
export * from "./mirror-args";
export * from "./mirror-validate";
export * from "./nginx-conf";
export * from "./paths";
export * from "./upload";
