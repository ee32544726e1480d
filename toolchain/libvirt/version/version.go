// Package version holds the provider version, set at link time:
// -X gentoo-infra/toolchain/libvirt/version.Version=<LIBVIRT_VERSION from ../versions.env>.
package version

// Version is the plugin version reported to the engine; the generated @pulumi/libvirt SDK has it too.
var Version string
