// Command pulumi-tfgen-libvirt writes the Pulumi package schema and bridge metadata of the libvirt
// provider (`pulumi-tfgen-libvirt schema --out DIR`).
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"gentoo-infra/toolchain/libvirt/info"
)

func main() {
	p := info.Provider()
	tfgen.Main("libvirt", p.Version, p)
}
