export * from "./pxe-install-host";
export * from "./pxe-install-host-args";
export * from "./renderers";
