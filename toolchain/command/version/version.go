// Package version holds the plugin version, set at build time by toolchain/build:
// -ldflags "-X gentoo-infra/toolchain/command/version.Version=1.2.1".
package version

// Version is the version GetPluginInfo reports (the @pulumi/command SDK version it stands in for).
var Version = "0.0.0-dev"
