export * from "./pxe-install-host";
export * from "./renderers";
