export * from "./arch";
export * from "./binrepos-conf";
export * from "./machine-tools";
export * from "./make-conf";
export * from "./profile";
export * from "./repos-conf";
export * from "./syntax";
