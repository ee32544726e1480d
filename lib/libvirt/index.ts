export * from "./blank-domain";
export * from "./domain-xml";
export * from "./hypervisor";
export * from "./network";
export * from "./validate";
export * from "./virtual-machine";
