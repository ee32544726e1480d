export * from "./pxe-install-host";
export * from "./pxe-install-host-args";
export * from "./pxe-install-host-validate";
export * from "./renderers";
