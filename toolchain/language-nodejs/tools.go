//go:build tools

// Package tools pins the command this module builds; see go.mod.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
