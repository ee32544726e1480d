// Command pulumi-resource-libvirt is the libvirt resource provider plugin.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"gentoo-infra/toolchain/libvirt/info"
)

// schema-embed.json is the generated schema.json (see toolchain/build).
//
//go:embed schema-embed.json
var schema []byte

func main() {
	p := info.Provider()
	tfbridge.Main("libvirt", p.Version, p, schema)
}
