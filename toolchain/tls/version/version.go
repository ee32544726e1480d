// Package version holds the provider version, set at link time:
// -X gentoo-infra/toolchain/tls/version.Version=<TLS_VERSION from ../versions.env>.
package version

// Version is the plugin version reported to the engine; it must equal @pulumi/tls in package.json.
var Version string
