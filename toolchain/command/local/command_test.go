package local

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

// These tests drive command:local:Command through the gRPC server that the plugin runs
// (Configure, Check, Diff, Create, Update, Delete on property maps with secrets), called
// in-process the way the engine calls it.

// TestMain keeps the status lines of commands run without a capturing context (they go to
// slog's default logger outside the engine) out of the test output.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

var urn = string(presource.NewURN("test", "local", "", "command:local:Command", "cmd"))

// A stand-in private key: multi-line, as the binhost's push scripts get theirs.
const secretKey = "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
	"QyNTUxOQAAACBwCRGVk0kDZoyzSHnJtZMqVhETC5NRNtNtqvJf1BX6KQAAAJgAAAAAAAAA\n" +
	"-----END OPENSSH PRIVATE KEY-----\n"

func newProvider(t *testing.T) p.Provider {
	t.Helper()
	prov, err := infer.NewProviderBuilder().
		WithNamespace("pulumi").
		WithResources(infer.Resource(&Command{})).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	return prov
}

// server is the plugin's gRPC server, configured as the engine configures it.
type server struct {
	t   *testing.T
	rpc rpc.ResourceProviderServer
}

func newServer(t *testing.T) server {
	t.Helper()
	s, err := p.RawServer("command", "1.2.1", newProvider(t))(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Configure(context.Background(), &rpc.ConfigureRequest{
		AcceptSecrets: true, AcceptResources: true, SendsOldInputs: true, SendsOldInputsToDelete: true,
	}); err != nil {
		t.Fatal(err)
	}
	return server{t, s}
}

var marshalOptions = plugin.MarshalOptions{
	KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true, SkipNulls: true,
}

func (s server) wire(m property.Map) *structpb.Struct {
	s.t.Helper()
	st, err := plugin.MarshalProperties(presource.ToResourcePropertyMap(m), marshalOptions)
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

func (s server) unwire(st *structpb.Struct) property.Map {
	s.t.Helper()
	m, err := plugin.UnmarshalProperties(st, marshalOptions)
	if err != nil {
		s.t.Fatal(err)
	}
	return presource.FromResourcePropertyMap(m)
}

// checkFailures runs Check and returns its failures.
func (s server) checkFailures(olds, news property.Map) []*rpc.CheckFailure {
	s.t.Helper()
	resp, err := s.rpc.Check(context.Background(), &rpc.CheckRequest{Urn: urn, Olds: s.wire(olds), News: s.wire(news)})
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.GetFailures()
}

// check runs Check and fails the test on an error or a check failure.
func (s server) check(olds, news property.Map) property.Map {
	s.t.Helper()
	resp, err := s.rpc.Check(context.Background(), &rpc.CheckRequest{Urn: urn, Olds: s.wire(olds), News: s.wire(news)})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(resp.GetFailures()) > 0 {
		s.t.Fatalf("check failures: %v", resp.GetFailures())
	}
	return s.unwire(resp.GetInputs())
}

// create checks `in`, previews the creation and creates; it returns the ID and outputs.
func (s server) create(ctx context.Context, in property.Map) (string, property.Map, error) {
	s.t.Helper()
	checked := s.wire(s.check(property.Map{}, in))
	if _, err := s.rpc.Create(ctx, &rpc.CreateRequest{Urn: urn, Properties: checked, Preview: true}); err != nil {
		s.t.Fatalf("preview: %v", err)
	}
	resp, err := s.rpc.Create(ctx, &rpc.CreateRequest{Urn: urn, Properties: checked})
	if err != nil {
		return "", property.Map{}, err
	}
	return resp.GetId(), s.unwire(resp.GetProperties()), nil
}

func (s server) mustCreate(ctx context.Context, in property.Map) (string, property.Map) {
	s.t.Helper()
	id, out, err := s.create(ctx, in)
	if err != nil {
		s.t.Fatal(err)
	}
	return id, out
}

func (s server) diff(state, oldInputs, news property.Map) *rpc.DiffResponse {
	s.t.Helper()
	resp, err := s.rpc.Diff(context.Background(), &rpc.DiffRequest{
		Id: "cmd", Urn: urn, Olds: s.wire(state), OldInputs: s.wire(oldInputs),
		News: s.wire(s.check(oldInputs, news)),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

func (s server) update(id string, state, oldInputs, news property.Map) property.Map {
	s.t.Helper()
	resp, err := s.rpc.Update(context.Background(), &rpc.UpdateRequest{
		Id: id, Urn: urn, Olds: s.wire(state), OldInputs: s.wire(oldInputs), News: s.wire(s.check(oldInputs, news)),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return s.unwire(resp.GetProperties())
}

func (s server) delete(id string, state, oldInputs property.Map) error {
	s.t.Helper()
	_, err := s.rpc.Delete(context.Background(), &rpc.DeleteRequest{
		Id: id, Urn: urn, Properties: s.wire(state), OldInputs: s.wire(oldInputs),
	})
	return err
}

// logs collects the status lines the command's output produced.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) ctx() context.Context {
	return context.WithValue(context.Background(), statusLogKey{}, func(line string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, line)
	})
}

func (l *logs) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func str(s string) property.Value { return property.New(s) }

func strs(s ...string) property.Value {
	vs := make([]property.Value, len(s))
	for i, v := range s {
		vs[i] = property.New(v)
	}
	return property.New(property.NewArray(vs))
}

func inputs(m map[string]property.Value) property.Map { return property.NewMap(m) }

func env(m map[string]property.Value) property.Value { return property.New(property.NewMap(m)) }

func stdout(m property.Map) string { return m.Get("stdout").AsString() }

func TestCreateRunsCreateWithStdinAndRemovesOneTrailingNewline(t *testing.T) {
	s := newServer(t)
	id, out := s.mustCreate(context.Background(), inputs(map[string]property.Value{
		"create": str(`cat; printf 'out\n\n'; printf 'err\n' >&2`),
		"stdin":  str("in:"),
	}))
	if got := stdout(out); got != "in:out\n" {
		t.Fatalf("stdout %q", got)
	}
	if got := out.Get("stderr").AsString(); got != "err" {
		t.Fatalf("stderr %q", got)
	}
	if !strings.HasPrefix(id, "cmd") {
		t.Fatalf("id %q", id)
	}
}

func TestPreviewRunsNothing(t *testing.T) {
	s := newServer(t)
	marker := filepath.Join(t.TempDir(), "ran")
	checked := s.check(property.Map{}, inputs(map[string]property.Value{"create": str("touch " + marker)}))
	resp, err := s.rpc.Create(context.Background(), &rpc.CreateRequest{Urn: urn, Properties: s.wire(checked), Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the preview ran create (%v)", err)
	}
	if out := s.unwire(resp.GetProperties()); !out.Get("stdout").IsComputed() {
		t.Fatalf("stdout is known in the preview: %v", out.Get("stdout"))
	}
}

func TestEnvironmentIsAddedToTheProviderEnvironment(t *testing.T) {
	t.Setenv("GI_TEST_INHERITED", "from-provider")
	t.Setenv("GI_TEST_OVERRIDDEN", "from-provider")
	s := newServer(t)
	_, out := s.mustCreate(context.Background(), inputs(map[string]property.Value{
		"create": str(`echo "$GI_TEST_INHERITED $GI_TEST_OVERRIDDEN $GI_TEST_OWN"`),
		"environment": env(map[string]property.Value{
			"GI_TEST_OVERRIDDEN": str("from-environment"),
			"GI_TEST_OWN":        str("own"),
		}),
	}))
	if got := stdout(out); got != "from-provider from-environment own" {
		t.Fatalf("stdout %q", got)
	}
}

func TestInterpreterAndDir(t *testing.T) {
	dir := t.TempDir()
	s := newServer(t)
	_, out := s.mustCreate(context.Background(), inputs(map[string]property.Value{
		"create":      str(`echo "${BASH_VERSION:+bash}"; pwd`),
		"interpreter": strs("/bin/bash", "-c"),
		"dir":         str(dir),
	}))
	if got := stdout(out); got != "bash\n"+dir {
		t.Fatalf("stdout %q", got)
	}
	// The default interpreter is /bin/sh -c; the default directory the provider's.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	_, out = s.mustCreate(context.Background(), inputs(map[string]property.Value{
		"create": str(`echo "$0"; pwd`),
	}))
	if got := stdout(out); got != "/bin/sh\n"+wd {
		t.Fatalf("stdout %q", got)
	}
}

func TestAMissingDirFails(t *testing.T) {
	s := newServer(t)
	_, _, err := s.create(context.Background(), inputs(map[string]property.Value{
		"create": str("true"),
		"dir":    str(filepath.Join(t.TempDir(), "missing")),
	}))
	if err == nil || !strings.Contains(err.Error(), "/missing") {
		t.Fatalf("want an error naming the directory, got %v", err)
	}
}

func TestAFailingCommandFailsWithItsOutputButNoEnvironmentValue(t *testing.T) {
	s := newServer(t)
	var l logs
	_, _, err := s.create(l.ctx(), inputs(map[string]property.Value{
		// Prints the whole key, one line of it, and the short value (not redacted).
		"create": str(`echo "start"; printf '%s' "$GI_KEY"; echo "$GI_KEY" | sed -n 2p >&2; ` +
			`echo "known: $GI_HOSTS short: $GI_SHORT"; exit 3`),
		"environment": env(map[string]property.Value{
			"GI_KEY":   str(secretKey).WithSecret(true),
			"GI_HOSTS": str("host ssh-ed25519 AAAAC3NzaC1lZDI1NTE5").WithSecret(true),
			"GI_SHORT": str("abc"),
		}),
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, want := range []string{"exit status 3", `running "echo \"start\";`, "start",
		"[environment GI_KEY]", "known: [environment GI_HOSTS] short: abc"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q:\n%s", want, msg)
		}
	}
	logged := l.text()
	if !strings.Contains(logged, "start") || !strings.Contains(logged, "[environment GI_KEY]") {
		t.Errorf("the output was not logged (redacted):\n%s", logged)
	}
	for _, secret := range append(strings.Split(strings.TrimSpace(secretKey), "\n"), "AAAAC3NzaC1lZDI1NTE5") {
		if strings.Contains(msg, secret) {
			t.Errorf("the error holds %q:\n%s", secret, msg)
		}
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logged)
		}
	}
}

func TestLoggingSelectsTheStreams(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct{ logging, want string }{
		{"", "o1\ne1\no2"},
		{"stdoutAndStderr", "o1\ne1\no2"},
		{"stdout", "o1\no2"},
		{"stderr", "e1"},
		{"none", ""},
	} {
		var l logs
		in := map[string]property.Value{"create": str(`echo o1; sleep 0.05; echo e1 >&2; sleep 0.05; printf o2`)}
		if tc.logging != "" {
			in["logging"] = str(tc.logging)
		}
		_, out := s.mustCreate(l.ctx(), inputs(in))
		if got := l.text(); got != tc.want {
			t.Errorf("logging %q: logged %q, want %q", tc.logging, got, tc.want)
		}
		if got := stdout(out); got != "o1\no2" {
			t.Errorf("logging %q: stdout %q", tc.logging, got)
		}
	}
}

func TestCancellingSendsSIGTERMThenSIGKILL(t *testing.T) {
	defer func(d time.Duration) { killAfter = d }(killAfter)
	killAfter = 500 * time.Millisecond
	dir := t.TempDir()
	s := newServer(t)
	for _, tc := range []struct{ name, script, want string }{
		// A script whose trap runs: it ends itself on SIGTERM.
		{"trapped", `trap 'kill $!; echo terminated > trap.txt; exit 1' TERM; sleep 30 >/dev/null 2>&1 & wait`, "terminated\n"},
		// A script that ignores SIGTERM is killed.
		{"ignored", `trap '' TERM; echo started > ignored.txt; while :; do sleep 0.1; done`, "started\n"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		start := time.Now()
		_, _, err := s.create(ctx, inputs(map[string]property.Value{
			"create":      str(tc.script),
			"interpreter": strs("/bin/bash", "-c"),
			"dir":         str(dir),
		}))
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("%s: want an error soon after the cancellation, got %v after %v", tc.name, err, time.Since(start))
		}
		file := map[string]string{"trapped": "trap.txt", "ignored": "ignored.txt"}[tc.name]
		if got, _ := os.ReadFile(filepath.Join(dir, file)); string(got) != tc.want {
			t.Fatalf("%s: %s holds %q", tc.name, file, got)
		}
		if tc.name == "ignored" && !strings.Contains(err.Error(), "signal: killed") {
			t.Fatalf("ignored: want a SIGKILL, got %v", err)
		}
	}
}

func TestSecretEnvironmentStaysSecretInTheState(t *testing.T) {
	s := newServer(t)
	_, out := s.mustCreate(context.Background(), inputs(map[string]property.Value{
		"create": str("echo done"),
		"environment": env(map[string]property.Value{
			"GI_KEY":   str(secretKey).WithSecret(true),
			"GI_PLAIN": str("plain"),
		}),
	}))
	e := out.Get("environment")
	if !e.HasSecrets() {
		t.Fatalf("environment lost its secret: %v", e)
	}
	if e.AsMap().Get("GI_PLAIN").HasSecrets() && !e.Secret() {
		t.Fatalf("a plain value became secret: %v", e)
	}
	// As upstream (no dependency wiring): stdout is not secret because an input is.
	if out.Get("stdout").HasSecrets() {
		t.Fatal("stdout became secret")
	}
}

// A changed trigger replaces the resource: the SDK registers it with the resource option
// replaceOnChanges ["triggers[*]"] (from the schema's replaceOnChanges), the provider's diff
// names the changed element, and the engine replaces (test/engine/command.test.ts shows it).
// Like upstream's (pulumi-go-provider's default diff), the provider itself asks for the
// replacement only when triggers appear or disappear as a whole.
func TestTriggersReplaceAndOtherChangesUpdate(t *testing.T) {
	s := newServer(t)
	olds := s.check(property.Map{}, inputs(map[string]property.Value{
		"create":   str("echo one"),
		"triggers": strs("a"),
	}))
	state := olds.Set("stdout", str("one")).Set("stderr", str(""))
	if d := s.diff(state, olds, olds); d.GetChanges() != rpc.DiffResponse_DIFF_NONE {
		t.Fatalf("no change: %v", d)
	}
	d := s.diff(state, olds, olds.Set("triggers", strs("b")))
	if d.GetChanges() != rpc.DiffResponse_DIFF_SOME || len(d.GetDetailedDiff()) != 1 ||
		d.GetDetailedDiff()["triggers[0]"] == nil {
		t.Fatalf("a changed trigger must show as a change of triggers[0]: %v", d)
	}
	d = s.diff(state, olds, olds.Delete("triggers"))
	if d.GetChanges() != rpc.DiffResponse_DIFF_SOME || strings.Join(d.GetReplaces(), " ") != "triggers" {
		t.Fatalf("removed triggers must replace: %v", d)
	}
	for name, value := range map[string]property.Value{
		"create":      str("echo two"),
		"environment": env(map[string]property.Value{"GI_X": str("x").WithSecret(true)}),
		"dir":         str("/"),
	} {
		if d := s.diff(state, olds, olds.Set(name, value)); d.GetChanges() != rpc.DiffResponse_DIFF_SOME ||
			len(d.GetReplaces()) != 0 {
			t.Fatalf("a changed %s must update in place: %v", name, d)
		}
	}
}

func TestUpdateRunsUpdateOrCreateWithThePreviousOutput(t *testing.T) {
	s := newServer(t)
	first := inputs(map[string]property.Value{"create": str("echo first; echo warn >&2")})
	id, created := s.mustCreate(context.Background(), first)

	withUpdate := first.Set("update", str(`echo "after $PULUMI_COMMAND_STDOUT/$PULUMI_COMMAND_STDERR"`))
	updated := s.update(id, created, first, withUpdate)
	if got := stdout(updated); got != "after first/warn" {
		t.Fatalf("update stdout %q", got)
	}

	// Without `update`, `create` runs again, with the previous output too.
	again := inputs(map[string]property.Value{"create": str(`echo "again after $PULUMI_COMMAND_STDOUT"`)})
	updated2 := s.update(id, updated, withUpdate, again)
	if got := stdout(updated2); got != "again after after first/warn" {
		t.Fatalf("create-as-update stdout %q", got)
	}

	// addPreviousOutputInEnv: false leaves them out.
	off := again.Set("addPreviousOutputInEnv", property.New(false))
	updated3 := s.update(id, updated2, again, off)
	if got := stdout(updated3); got != "again after " {
		t.Fatalf("addPreviousOutputInEnv false: stdout %q", got)
	}
}

func TestDeleteRunsDeleteWithThePreviousOutput(t *testing.T) {
	dir := t.TempDir()
	s := newServer(t)
	in := inputs(map[string]property.Value{
		"create": str("echo created"),
		"delete": str(`echo "deleted after $PULUMI_COMMAND_STDOUT" > deleted.txt`),
		"dir":    str(dir),
	})
	id, created := s.mustCreate(context.Background(), in)
	if err := s.delete(id, created, in); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "deleted.txt"))
	if err != nil || string(got) != "deleted after created\n" {
		t.Fatalf("deleted.txt %q (%v)", got, err)
	}
}

func TestAFailingDeleteFails(t *testing.T) {
	s := newServer(t)
	in := inputs(map[string]property.Value{"delete": str("echo cannot; exit 4")})
	id, created := s.mustCreate(context.Background(), in)
	err := s.delete(id, created, in)
	if err == nil || !strings.Contains(err.Error(), "exit status 4") || !strings.Contains(err.Error(), "cannot") {
		t.Fatalf("want the delete's failure, got %v", err)
	}
}

func TestAssetAndArchivePathsAreRefused(t *testing.T) {
	s := newServer(t)
	for _, name := range []string{"assetPaths", "archivePaths"} {
		for _, value := range []property.Value{strs("*.txt"), property.New(property.Computed)} {
			failures := s.checkFailures(property.Map{}, inputs(map[string]property.Value{
				"create": str("true"),
				name:     value,
			}))
			if len(failures) != 1 || failures[0].GetProperty() != name ||
				!strings.Contains(failures[0].GetReason(), "not implemented by the gentoo-infra stand-in") {
				t.Fatalf("%s %v: failures %v", name, value, failures)
			}
		}
	}
}

func TestTheSchemaMatchesUpstreamV121(t *testing.T) {
	spec, err := p.GetSchema(context.Background(), "command", "1.2.1", newProvider(t))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := spec.Resources["command:local:Command"]
	if !ok {
		t.Fatal("no command:local:Command in the schema")
	}
	var names []string
	for name := range r.InputProperties {
		names = append(names, name)
	}
	sort.Strings(names)
	want := "addPreviousOutputInEnv archivePaths assetPaths create delete dir environment " +
		"interpreter logging stdin triggers update"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("input properties %q, want %q", got, want)
	}
	if d := r.InputProperties["addPreviousOutputInEnv"].Default; d != nil {
		t.Fatalf("addPreviousOutputInEnv has default %v (upstream has none)", d)
	}
	if got := r.InputProperties["logging"].Ref; got != "#/types/command:local:Logging" {
		t.Fatalf("logging refers to %q", got)
	}
	required := append([]string{}, r.Required...)
	sort.Strings(required)
	if got := strings.Join(required, " "); got != "stderr stdout" {
		t.Fatalf("required outputs %q", got)
	}
	if !r.InputProperties["triggers"].ReplaceOnChanges {
		t.Fatal("triggers is not replaceOnChanges")
	}
}

func TestRedactorPrefersTheLongestValue(t *testing.T) {
	r := newRedactor(map[string]string{"A": "secret", "B": "secret-longer", "C": "xyz", "D": "first\nsecond\nab"})
	got := r.Replace("secret-longer secret xyz first second ab|first\nsecond\nab|")
	if want := "[environment B] [environment A] xyz [environment D] [environment D] ab|[environment D]|"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
