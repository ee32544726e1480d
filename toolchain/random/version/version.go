// Package version holds the provider version, set at link time:
// -X gentoo-infra/toolchain/random/version.Version=<RANDOM_VERSION from ../versions.env>.
package version

// Version is the plugin version reported to the engine; it must equal @pulumi/random in package.json.
var Version string
