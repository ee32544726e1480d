//go:build languagehost

// Added to package main of github.com/pulumi/pulumi/sdk/v3@v3.68.0/nodejs/cmd/pulumi-language-nodejs
// by toolchain/build (go build -overlay, tag languagehost), in place of the RunPlugin stub that
// overlay/main.go.patch removes. See the runplugin package and docs/toolchain.md.
package main

import (
	runplugin "gentoo-infra/toolchain/language-nodejs/runplugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// RunPlugin starts policy packs (kind "analyzer"); other kinds stay unsupported.
func (host *nodeLanguageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	return runplugin.Serve(req, server)
}
