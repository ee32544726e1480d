// Package info maps the Terraform random provider to the Pulumi package "random" with the tokens
// the @pulumi/random Node SDK uses (random:index/random<Name>:Random<Name>).
package info

import (
	"context"
	_ "embed"
	"fmt"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/terraform-providers/terraform-provider-random/shim"

	"gentoo-infra/toolchain/random/version"
)

// bridge-metadata.json is written by `pulumi-tfgen-random schema` (see toolchain/build).
//
//go:embed bridge-metadata.json
var metadata []byte

// resources maps each Terraform type to the suffix of its Pulumi name (random_id → RandomId).
var resources = map[string]string{
	"random_bytes":    "Bytes",
	"random_id":       "Id",
	"random_integer":  "Integer",
	"random_password": "Password",
	"random_pet":      "Pet",
	"random_shuffle":  "Shuffle",
	"random_string":   "String",
	"random_uuid":     "Uuid",
	"random_uuid4":    "Uuid4",
	"random_uuid7":    "Uuid7",
}

// bytesID gives random_bytes, which has no id attribute, its base64 value as the resource ID.
func bytesID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", fmt.Errorf("random_bytes: state has no base64 property")
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", fmt.Errorf("random_bytes: base64 is not a string")
	}
	return resource.ID(v.StringValue()), nil
}

// Provider returns the bridge configuration of the random package.
func Provider() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:                           pfbridge.ShimProvider(shim.NewProvider()),
		Name:                        "random",
		Description:                 "A Pulumi package to safely use randomness in Pulumi programs.",
		License:                     "Apache-2.0",
		Version:                     version.Version,
		GitHubOrg:                   "hashicorp",
		MetadataInfo:                tfbridge.NewProviderMetadata(metadata),
		Resources:                   map[string]*tfbridge.ResourceInfo{},
		EnableAccurateBridgePreview: true,
	}
	for tf, name := range resources {
		camel := "random" + name
		info.Resources[tf] = &tfbridge.ResourceInfo{
			Tok: tokens.Type("random:index/" + camel + ":Random" + name),
		}
	}
	info.Resources["random_bytes"].ComputeID = bytesID
	return info
}
