/**
 * The install host's pure modules (renderers, validation, names), without the component:
 * importing this does not load `@pulumi/pulumi` or any provider SDK.
 */

export * from "../network/ipv4";
export * from "../network/mac";
export * from "./disk-layout";
export * from "./dnsmasq-conf";
export * from "./install-config";
export * from "./install-host-layout";
export * from "./install-host-nginx";
export * from "./install-host-plan";
export * from "./install-report";
export * from "./inventory";
export * from "./ipxe-script";
export * from "./netboot";
export * from "./netboot-switch";
