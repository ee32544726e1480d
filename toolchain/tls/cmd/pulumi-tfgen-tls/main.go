// Command pulumi-tfgen-tls writes the Pulumi package schema and bridge metadata of the tls
// provider (`pulumi-tfgen-tls schema --out DIR`).
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"gentoo-infra/toolchain/tls/info"
)

func main() { pftfgen.Main("tls", info.Provider()) }
