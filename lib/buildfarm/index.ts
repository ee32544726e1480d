export * from "./build-script";
export * from "./catalyst-keys";
export * from "./catalyst-spec";
export * from "./systemd-units";
