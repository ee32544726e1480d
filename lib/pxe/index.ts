export * from "./disk-layout";
export * from "./dnsmasq-conf";
export * from "./install-config";
export * from "./inventory";
export * from "./ipv4";
export * from "./ipxe-script";
export * from "./mac";
export * from "./netboot";
