// Package info maps the Terraform libvirt provider (an SDKv2 provider) to the Pulumi package
// "libvirt" with the tokens of Pulumi's published libvirt package (libvirt:index/domain:Domain …).
package info

import (
	_ "embed"

	"github.com/dmacvicar/terraform-provider-libvirt/libvirt"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"gentoo-infra/toolchain/libvirt/version"
)

// bridge-metadata.json is written by `pulumi-tfgen-libvirt schema` (see toolchain/build).
//
//go:embed bridge-metadata.json
var metadata []byte

func resourceToken(camel, name string) tokens.Type {
	return tokens.Type("libvirt:index/" + camel + ":" + name)
}

func functionToken(camel string) tokens.ModuleMember {
	return tokens.ModuleMember("libvirt:index/" + camel + ":" + camel)
}

// Provider returns the bridge configuration of the libvirt package.
func Provider() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            shimv2.NewProvider(libvirt.Provider()),
		Name:         "libvirt",
		Description:  "A Pulumi package for creating and managing libvirt resources.",
		License:      "Apache-2.0",
		Version:      version.Version,
		GitHubOrg:    "dmacvicar",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Config: map[string]*tfbridge.SchemaInfo{
			"uri": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"LIBVIRT_DEFAULT_URI"}}},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"libvirt_cloudinit_disk": {Tok: resourceToken("cloudInitDisk", "CloudInitDisk")},
			"libvirt_combustion":     {Tok: resourceToken("combustion", "Combustion")},
			"libvirt_domain":         {Tok: resourceToken("domain", "Domain")},
			"libvirt_ignition":       {Tok: resourceToken("ignition", "Ignition")},
			"libvirt_network":        {Tok: resourceToken("network", "Network")},
			"libvirt_pool":           {Tok: resourceToken("pool", "Pool")},
			"libvirt_volume":         {Tok: resourceToken("volume", "Volume")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"libvirt_network_dns_host_template":        {Tok: functionToken("getNetworkDnsHostTemplate")},
			"libvirt_network_dns_srv_template":         {Tok: functionToken("getNetworkDnsSrvTemplate")},
			"libvirt_network_dnsmasq_options_template": {Tok: functionToken("getNetworkDnsmasqOptionsTemplate")},
			"libvirt_node_info":                        {Tok: functionToken("getNodeInfo")},
			"libvirt_node_device_info":                 {Tok: functionToken("getNodeDeviceInfo")},
			"libvirt_node_devices":                     {Tok: functionToken("getNodeDevices")},
		},
	}
	// A resource's `name`, when left out, is derived from its Pulumi name plus a random suffix.
	info.SetAutonaming(255, "-")
	return info
}
