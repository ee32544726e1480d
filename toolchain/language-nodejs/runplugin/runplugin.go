// Package runplugin gives the Node.js language host built from sdk/v3 v3.68.0 the RunPlugin
// call for policy packs (plugin kind "analyzer"), which that release answers with "not supported".
// The engine of CLI 3.260.0 starts `pulumi preview --policy-pack DIR` through it: it sends a
// RunPluginRequest with fields that v3.68.0's generated code does not know (the pack's program
// info and the plugin kind); they arrive as unknown fields and are decoded here by number.
// The host runs `node <@pulumi/pulumi/cmd/run-policy-pack> [engine flags...] <engine address> <pack
// directory>` in the pack's directory, with the pack's own @pulumi/pulumi, and streams its output
// back to the engine, which reads the pack's gRPC port from the first line. See docs/toolchain.md.
package runplugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// AnalyzerKind is the plugin kind of a policy pack (apitype.AnalyzerPlugin in newer SDKs).
const AnalyzerKind = "analyzer"

// RunPolicyPackModule is the entry point @pulumi/pulumi ships for policy packs.
const RunPolicyPackModule = "@pulumi/pulumi/cmd/run-policy-pack"

// Field numbers of pulumirpc.RunPluginRequest and pulumirpc.ProgramInfo after v3.68.0
// (proto/pulumi/language.proto).
const (
	fieldInfo = 5
	fieldKind = 6

	fieldInfoRootDirectory    = 1
	fieldInfoProgramDirectory = 2
	fieldInfoEntryPoint       = 3
	fieldInfoOptions          = 4
)

// Request is a RunPluginRequest with the fields v3.68.0 cannot name decoded.
type Request struct {
	// Pwd is the engine's working directory (unused for policy packs, which run in their own).
	Pwd string
	// Args are the engine's flags and, last, its address.
	Args []string
	// Env is the complete environment of the plugin.
	Env []string
	// Kind is the plugin kind ("analyzer" for a policy pack).
	Kind string
	// RootDirectory, ProgramDirectory and EntryPoint are the plugin's ProgramInfo.
	RootDirectory, ProgramDirectory, EntryPoint string
	// Options are the runtime options of PulumiPolicy.yaml (`runtime.options`).
	Options map[string]any
}

// Decode reads a RunPluginRequest, including its unknown fields 5 (info) and 6 (kind).
func Decode(req *pulumirpc.RunPluginRequest) (Request, error) {
	r := Request{Pwd: req.GetPwd(), Args: req.GetArgs(), Env: req.GetEnv()}
	err := eachField(req.ProtoReflect().GetUnknown(), func(num protowire.Number, value []byte) error {
		switch num {
		case fieldKind:
			r.Kind = string(value)
		case fieldInfo:
			return eachField(value, func(num protowire.Number, value []byte) error {
				switch num {
				case fieldInfoRootDirectory:
					r.RootDirectory = string(value)
				case fieldInfoProgramDirectory:
					r.ProgramDirectory = string(value)
				case fieldInfoEntryPoint:
					r.EntryPoint = string(value)
				case fieldInfoOptions:
					var s structpb.Struct
					if err := proto.Unmarshal(value, &s); err != nil {
						return fmt.Errorf("RunPluginRequest.info.options: %w", err)
					}
					r.Options = s.AsMap()
				}
				return nil
			})
		}
		return nil
	})
	return r, err
}

// eachField calls f with every length-delimited field of the wire-format message b; fields of
// other wire types are skipped (RunPluginRequest's attach_debugger, for one).
func eachField(b []byte, f func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("RunPluginRequest: malformed field: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.BytesType {
			value, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return fmt.Errorf("RunPluginRequest: malformed field %d: %w", num, protowire.ParseError(m))
			}
			if err := f(num, value); err != nil {
				return err
			}
			n = m
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("RunPluginRequest: malformed field %d: %w", num, protowire.ParseError(n))
			}
		}
		b = b[n:]
	}
	return nil
}

// Resolver finds a Node module's entry file as `require.resolve` does from directory dir.
type Resolver func(ctx context.Context, node, dir, module string) (string, error)

// ResolveModule runs `node -e require.resolve(module)` in dir, so that the pack's own
// node_modules answer (as with upstream's language host).
func ResolveModule(ctx context.Context, node, dir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, node, "-e", "console.log(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			stderr = strings.TrimSpace(string(exit.Stderr))
		}
		return "", fmt.Errorf("policy pack %s: cannot find %s (run npm ci in the pack's directory): %w %s",
			dir, module, err, stderr)
	}
	return strings.TrimSpace(string(out)), nil
}

// Command is the process that runs the policy pack of r: node, the pack's run-policy-pack, the
// engine's arguments, then the pack directory (last, as run-policy-pack expects), in the pack's
// directory. Only kind "analyzer" is implemented.
func Command(ctx context.Context, r Request, node string, resolve Resolver) (*exec.Cmd, error) {
	if r.Kind != AnalyzerKind {
		return nil, fmt.Errorf("RunPlugin of kind %q is not supported by this language host "+
			"(only policy packs, kind %q; docs/toolchain.md)", r.Kind, AnalyzerKind)
	}
	if r.ProgramDirectory == "" || !filepath.IsAbs(r.ProgramDirectory) {
		return nil, fmt.Errorf("RunPlugin: the policy pack's directory must be absolute, got %q "+
			"(an engine older than RunPluginRequest.info?)", r.ProgramDirectory)
	}
	entry, err := resolve(ctx, node, r.ProgramDirectory, RunPolicyPackModule)
	if err != nil {
		return nil, err
	}
	env := append([]string{}, r.Env...)
	if ts, ok := r.Options["typescript"].(bool); ok {
		env = append(env, fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", ts))
	}
	args := append([]string{entry}, r.Args...)
	args = append(args, r.ProgramDirectory)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = r.ProgramDirectory
	cmd.Env = env
	return cmd, nil
}

// Serve answers one RunPlugin call: it runs the policy pack and streams its standard output and
// error to the engine until the pack exits or the engine ends the call (which kills the pack).
func Serve(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	r, err := Decode(req)
	if err != nil {
		return err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("RunPlugin: node is not on PATH: %w", err)
	}
	ctx := server.Context()
	cmd, err := Command(ctx, r, node, ResolveModule)
	if err != nil {
		return err
	}
	cmd.Stdout = sender{server, false}
	cmd.Stderr = sender{server, true}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && ctx.Err() == nil {
			return fmt.Errorf("policy pack %s exited with code %d", r.ProgramDirectory, exit.ExitCode())
		}
		if ctx.Err() != nil {
			return nil // the engine is done with the pack
		}
		return fmt.Errorf("policy pack %s could not run: %w", r.ProgramDirectory, err)
	}
	return nil
}

// sender writes a process's output to the engine as RunPluginResponse messages.
type sender struct {
	server pulumirpc.LanguageRuntime_RunPluginServer
	stderr bool
}

var _ io.Writer = sender{}

func (s sender) Write(b []byte) (int, error) {
	// gRPC marshals the message before Send returns; still, never hand it a buffer exec reuses.
	data := append([]byte{}, b...)
	msg := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: data}}
	if s.stderr {
		msg = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: data}}
	}
	if err := s.server.Send(msg); err != nil {
		return 0, err
	}
	return len(b), nil
}
