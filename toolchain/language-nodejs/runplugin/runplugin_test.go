package runplugin

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// request is what the engine of CLI 3.260.0 sends: v3.68.0's fields plus info (5), kind (6)
// and attach_debugger (8), the last three encoded by hand as v3.68.0 has no names for them.
func request(t *testing.T, kind, dir string, options map[string]any) *pulumirpc.RunPluginRequest {
	t.Helper()
	known, err := proto.Marshal(&pulumirpc.RunPluginRequest{
		Pwd: "/work", Args: []string{"-v=9", "127.0.0.1:4242"}, Env: []string{"A=1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var info []byte
	info = protowire.AppendTag(info, fieldInfoRootDirectory, protowire.BytesType)
	info = protowire.AppendString(info, dir)
	info = protowire.AppendTag(info, fieldInfoProgramDirectory, protowire.BytesType)
	info = protowire.AppendString(info, dir)
	info = protowire.AppendTag(info, fieldInfoEntryPoint, protowire.BytesType)
	info = protowire.AppendString(info, ".")
	if options != nil {
		s, err := structpb.NewStruct(options)
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		info = protowire.AppendTag(info, fieldInfoOptions, protowire.BytesType)
		info = protowire.AppendBytes(info, b)
	}
	wire := protowire.AppendTag(known, fieldInfo, protowire.BytesType)
	wire = protowire.AppendBytes(wire, info)
	wire = protowire.AppendTag(wire, fieldKind, protowire.BytesType)
	wire = protowire.AppendString(wire, kind)
	wire = protowire.AppendTag(wire, 8, protowire.VarintType)
	wire = protowire.AppendVarint(wire, 0)
	var req pulumirpc.RunPluginRequest
	if err := proto.Unmarshal(wire, &req); err != nil {
		t.Fatal(err)
	}
	return &req
}

func TestDecodeReadsTheFieldsV3_68_0CannotName(t *testing.T) {
	r, err := Decode(request(t, "analyzer", "/packs/p", map[string]any{"typescript": false}))
	if err != nil {
		t.Fatal(err)
	}
	want := Request{
		Pwd: "/work", Args: []string{"-v=9", "127.0.0.1:4242"}, Env: []string{"A=1"}, Kind: "analyzer",
		RootDirectory: "/packs/p", ProgramDirectory: "/packs/p", EntryPoint: ".",
		Options: map[string]any{"typescript": false},
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("Decode = %#v, want %#v", r, want)
	}
}

func TestDecodeRefusesATruncatedField(t *testing.T) {
	var req pulumirpc.RunPluginRequest
	wire := protowire.AppendTag(nil, fieldKind, protowire.BytesType)
	wire = protowire.AppendVarint(wire, 10) // says 10 bytes, has 3
	wire = append(wire, "ana"...)
	req.ProtoReflect().SetUnknown(wire)
	if _, err := Decode(&req); err == nil || !strings.Contains(err.Error(), "malformed field 6") {
		t.Fatalf("Decode error = %v, want malformed field 6", err)
	}
}

func resolveTo(path string) Resolver {
	return func(_ context.Context, _, _, _ string) (string, error) { return path, nil }
}

func TestCommandRunsThePackWithTheEngineAddressThenItsDirectory(t *testing.T) {
	r, err := Decode(request(t, "analyzer", "/packs/p", map[string]any{"typescript": false}))
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := Command(context.Background(), r, "/usr/bin/node", resolveTo("/packs/p/rpp.js"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/usr/bin/node", "/packs/p/rpp.js", "-v=9", "127.0.0.1:4242", "/packs/p"}; !reflect.DeepEqual(cmd.Args, want) {
		t.Errorf("args = %q, want %q", cmd.Args, want)
	}
	if cmd.Dir != "/packs/p" {
		t.Errorf("dir = %q, want the pack's directory", cmd.Dir)
	}
	if want := []string{"A=1", "PULUMI_NODEJS_TYPESCRIPT=false"}; !reflect.DeepEqual(cmd.Env, want) {
		t.Errorf("env = %q, want %q", cmd.Env, want)
	}
}

func TestCommandRefusesOtherKindsAndRelativeDirectories(t *testing.T) {
	for _, c := range []struct{ kind, dir, want string }{
		{"resource", "/packs/p", `RunPlugin of kind "resource" is not supported`},
		{"analyzer", "packs/p", `must be absolute, got "packs/p"`},
		{"analyzer", "", `must be absolute, got ""`},
	} {
		_, err := Command(context.Background(), Request{Kind: c.kind, ProgramDirectory: c.dir}, "node", resolveTo("x"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Command(%s, %q) error = %v, want %q", c.kind, c.dir, err, c.want)
		}
	}
}

// recorder is a RunPlugin stream that keeps what is sent.
type recorder struct {
	grpc.ServerStream
	ctx    context.Context
	mu     sync.Mutex
	stdout strings.Builder
	stderr strings.Builder
}

func (r *recorder) Context() context.Context { return r.ctx }

func (r *recorder) Send(m *pulumirpc.RunPluginResponse) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stdout.Write(m.GetStdout())
	r.stderr.Write(m.GetStderr())
	return nil
}

// pack writes a policy pack whose @pulumi/pulumi run-policy-pack prints its arguments and
// working directory and writes to stderr, then exits with `code`.
func pack(t *testing.T, code int) string {
	t.Helper()
	dir := t.TempDir()
	entry := filepath.Join(dir, "node_modules/@pulumi/pulumi/cmd/run-policy-pack")
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "console.log(process.argv.slice(2).join(' ') + ' in ' + process.cwd());\n" +
		"console.error('from stderr');\nprocess.exitCode = " + string(rune('0'+code)) + ";\n"
	if err := os.WriteFile(filepath.Join(entry, "index.js"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestServeStreamsThePacksOutput(t *testing.T) {
	dir := pack(t, 0)
	rec := &recorder{ctx: context.Background()}
	if err := Serve(request(t, "analyzer", dir, nil), rec); err != nil {
		t.Fatal(err)
	}
	if want := "-v=9 127.0.0.1:4242 " + dir + " in " + dir + "\n"; rec.stdout.String() != want {
		t.Errorf("stdout = %q, want %q", rec.stdout.String(), want)
	}
	if rec.stderr.String() != "from stderr\n" {
		t.Errorf("stderr = %q", rec.stderr.String())
	}
}

func TestServeReportsAFailingPack(t *testing.T) {
	dir := pack(t, 3)
	err := Serve(request(t, "analyzer", dir, nil), &recorder{ctx: context.Background()})
	if err == nil || !strings.Contains(err.Error(), "exited with code 3") {
		t.Fatalf("Serve error = %v, want exited with code 3", err)
	}
}

func TestServeSaysWhatIsMissingWithoutAPulumiSDK(t *testing.T) {
	err := Serve(request(t, "analyzer", t.TempDir(), nil), &recorder{ctx: context.Background()})
	if err == nil || !strings.Contains(err.Error(), "cannot find @pulumi/pulumi/cmd/run-policy-pack (run npm ci in the pack's directory)") {
		t.Fatalf("Serve error = %v", err)
	}
}
