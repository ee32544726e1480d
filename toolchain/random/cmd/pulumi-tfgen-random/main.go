// Command pulumi-tfgen-random writes the Pulumi package schema and bridge metadata of the random
// provider (`pulumi-tfgen-random schema --out DIR`).
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"gentoo-infra/toolchain/random/info"
)

func main() { pftfgen.Main("random", info.Provider()) }
