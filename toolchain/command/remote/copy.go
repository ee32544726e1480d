package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/sftp"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-go-provider/infer/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// CopyToRemote copies an asset or archive to a remote host over SFTP. A change of the
// source's content or of remotePath copies again (an update); a change of triggers replaces it.
type CopyToRemote struct{}

// CopyToRemoteInputs are the inputs (and outputs) of command:remote:CopyToRemote.
type CopyToRemoteInputs struct {
	Connection *Connection          `pulumi:"connection" provider:"secret"`
	Source     types.AssetOrArchive `pulumi:"source"`
	RemotePath string               `pulumi:"remotePath"`
	Triggers   *[]any               `pulumi:"triggers,optional" provider:"replaceOnChanges"`
}

// CopyToRemoteOutputs are the inputs.
type CopyToRemoteOutputs struct {
	CopyToRemoteInputs
}

var (
	_ = (infer.CustomResource[CopyToRemoteInputs, CopyToRemoteOutputs])((*CopyToRemote)(nil))
	_ = (infer.CustomCheck[CopyToRemoteInputs])((*CopyToRemote)(nil))
	_ = (infer.CustomUpdate[CopyToRemoteInputs, CopyToRemoteOutputs])((*CopyToRemote)(nil))
)

// Annotate describes the resource in the schema.
func (c *CopyToRemote) Annotate(a infer.Annotator) {
	a.Describe(&c, "Copy an Asset or Archive to a remote host. "+
		"(gentoo-infra STAND-IN for the upstream command provider v1.2.1.)")
}

// Annotate describes the inputs in the schema.
func (c *CopyToRemoteInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Connection, "The parameters with which to connect to the remote host.")
	a.Describe(&c.Source, "A FileAsset, StringAsset, FileArchive (a directory or a file, copied as-is) "+
		"or AssetArchive (its entries written under remotePath).")
	a.Describe(&c.RemotePath, "The destination path on the remote host; missing parent directories are created.")
	a.Describe(&c.Triggers, "Trigger replacements on changes to this input.")
}

// Check validates the inputs: exactly one supported asset or archive and a remote path.
func (*CopyToRemote) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[CopyToRemoteInputs], error) {
	inputs, failures, err := infer.DefaultCheck[CopyToRemoteInputs](ctx, req.NewInputs)
	if err != nil {
		return infer.CheckResponse[CopyToRemoteInputs]{Inputs: inputs, Failures: failures}, err
	}
	// Unknown during preview: nothing more to check.
	if v, ok := req.NewInputs.GetOk("source"); ok && v.IsComputed() {
		return infer.CheckResponse[CopyToRemoteInputs]{Inputs: inputs, Failures: failures}, nil
	}
	asset, archive := inputs.Source.Asset, inputs.Source.Archive
	switch {
	case asset != nil && archive != nil:
		failures = append(failures, p.CheckFailure{Property: "source", Reason: "only one of an asset or an archive can be set"})
	case asset == nil && archive == nil:
		failures = append(failures, p.CheckFailure{Property: "source", Reason: "an asset or an archive must be set"})
	case asset != nil && !asset.IsPath() && !asset.IsText():
		failures = append(failures, p.CheckFailure{Property: "source",
			Reason: "the asset must be a FileAsset or a StringAsset (a RemoteAsset is not supported)"})
	case archive != nil && !archive.IsPath() && !archive.IsAssets():
		failures = append(failures, p.CheckFailure{Property: "source",
			Reason: "the archive must be a FileArchive or an AssetArchive (a RemoteArchive is not supported)"})
	}
	if v, ok := req.NewInputs.GetOk("remotePath"); !ok || !v.IsComputed() {
		if inputs.RemotePath == "" {
			failures = append(failures, p.CheckFailure{Property: "remotePath", Reason: "remotePath must not be empty"})
		}
	}
	return infer.CheckResponse[CopyToRemoteInputs]{Inputs: inputs, Failures: failures}, nil
}

// Create copies the source.
func (*CopyToRemote) Create(ctx context.Context, req infer.CreateRequest[CopyToRemoteInputs]) (infer.CreateResponse[CopyToRemoteOutputs], error) {
	out := CopyToRemoteOutputs{req.Inputs}
	if req.DryRun {
		return infer.CreateResponse[CopyToRemoteOutputs]{Output: out}, nil
	}
	if err := copyToRemote(ctx, req.Inputs); err != nil {
		return infer.CreateResponse[CopyToRemoteOutputs]{}, err
	}
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	return infer.CreateResponse[CopyToRemoteOutputs]{ID: id, Output: out}, err
}

// Update copies again when the source's content or the remote path changed.
func (*CopyToRemote) Update(ctx context.Context, req infer.UpdateRequest[CopyToRemoteInputs, CopyToRemoteOutputs]) (infer.UpdateResponse[CopyToRemoteOutputs], error) {
	out := CopyToRemoteOutputs{req.Inputs}
	if req.DryRun {
		return infer.UpdateResponse[CopyToRemoteOutputs]{Output: out}, nil
	}
	if sourceHash(req.Inputs.Source) != sourceHash(req.State.Source) || req.Inputs.RemotePath != req.State.RemotePath ||
		sourceHash(req.Inputs.Source) == "" {
		if err := copyToRemote(ctx, req.Inputs); err != nil {
			return infer.UpdateResponse[CopyToRemoteOutputs]{}, err
		}
	}
	return infer.UpdateResponse[CopyToRemoteOutputs]{Output: out}, nil
}

// sourceHash is the content hash the engine computed for the asset or archive.
func sourceHash(s types.AssetOrArchive) string {
	switch {
	case s.Asset != nil:
		return s.Asset.Hash
	case s.Archive != nil:
		return s.Archive.Hash
	}
	return ""
}

// remoteStat stats a remote path; a missing path is (nil, nil).
func remoteStat(c *sftp.Client, p string) (fs.FileInfo, error) {
	info, err := c.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("stat %s on the remote host: %w", p, err)
	}
	return info, nil
}

func copyToRemote(ctx context.Context, in CopyToRemoteInputs) error {
	client, err := in.Connection.Dial(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	sc, err := sftp.NewClient(client.Client)
	if err != nil {
		return fmt.Errorf("starting SFTP on the remote host (is the sftp subsystem enabled?): %w", err)
	}
	defer func() { _ = sc.Close() }()

	dest := in.RemotePath
	if parent := path.Dir(dest); parent != "." && parent != "/" {
		if err := sc.MkdirAll(parent); err != nil {
			return fmt.Errorf("creating the remote directory %s: %w", parent, err)
		}
	}
	switch {
	case in.Source.Asset != nil && in.Source.Asset.IsText():
		p.GetLogger(ctx).Debugf("copying a text asset to %s", dest)
		return copyText(sc, in.Source.Asset.Text, dest)
	case in.Source.Asset != nil:
		return copyPath(sc, in.Source.Asset.Path, dest)
	case in.Source.Archive != nil && in.Source.Archive.IsPath():
		return copyPath(sc, in.Source.Archive.Path, dest)
	case in.Source.Archive != nil:
		return copyAssetArchive(sc, in.Source.Archive, dest)
	}
	return errors.New("source is neither an asset nor an archive")
}

// copyText writes text to dest, which must not be a directory.
func copyText(sc *sftp.Client, text, dest string) error {
	info, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if info != nil && info.IsDir() {
		return fmt.Errorf("remote path %s is a directory; for a StringAsset remotePath must be a file path", dest)
	}
	return writeRemote(sc, strings.NewReader(text), dest, 0)
}

// copyPath copies a local file or directory with upstream's rules:
//
//	source | dest is a dir       | dest is missing | dest is a file
//	dir    | dest/dir            | dest/dir        | error
//	dir/   | dest/x for x in dir | dest/x          | error
//	file   | dest/file           | dest            | dest (overwritten)
func copyPath(sc *sftp.Client, src, dest string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	destInfo, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		if destInfo != nil && destInfo.IsDir() {
			dest = path.Join(dest, filepath.Base(src))
		}
		return copyFile(sc, src, dest, info.Mode().Perm())
	}
	if destInfo != nil && !destInfo.IsDir() {
		return fmt.Errorf("remote path %s exists but is not a directory", dest)
	}
	if !strings.HasSuffix(src, "/") {
		dest = path.Join(dest, filepath.Base(src))
	}
	return filepath.WalkDir(src, func(local string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, local)
		if err != nil {
			return err
		}
		target := path.Join(dest, filepath.ToSlash(rel))
		if d.IsDir() {
			if err := sc.MkdirAll(target); err != nil {
				return fmt.Errorf("creating the remote directory %s: %w", target, err)
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return copyFile(sc, local, target, fi.Mode().Perm())
	})
}

func copyFile(sc *sftp.Client, src, dest string, mode fs.FileMode) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return writeRemote(sc, f, dest, mode)
}

// writeRemote writes r to dest (truncating it) and, when mode is not 0, sets its mode.
func writeRemote(sc *sftp.Client, r io.Reader, dest string, mode fs.FileMode) error {
	f, err := sc.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("creating the remote file %s: %w", dest, err)
	}
	if _, err := f.ReadFrom(r); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing the remote file %s: %w", dest, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing the remote file %s: %w", dest, err)
	}
	if mode != 0 {
		if err := sc.Chmod(dest, mode); err != nil {
			return fmt.Errorf("setting the mode of the remote file %s: %w", dest, err)
		}
	}
	return nil
}

// copyAssetArchive writes each entry of an AssetArchive (nested archives flattened) under
// dest, which becomes a directory. A stand-in extension: upstream accepts path archives only.
func copyAssetArchive(sc *sftp.Client, a *resource.Archive, dest string) error {
	info, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if info != nil && !info.IsDir() {
		return fmt.Errorf("remote path %s exists but is not a directory", dest)
	}
	if err := sc.MkdirAll(dest); err != nil {
		return fmt.Errorf("creating the remote directory %s: %w", dest, err)
	}
	return walkArchive(a, "", func(name string, r io.Reader) error {
		target := path.Join(dest, path.Clean("/"+filepath.ToSlash(name)))
		if err := sc.MkdirAll(path.Dir(target)); err != nil {
			return fmt.Errorf("creating the remote directory %s: %w", path.Dir(target), err)
		}
		return writeRemote(sc, r, target, 0)
	})
}

// walkArchive calls fn for every file of an archive: the entries of an AssetArchive (which
// infer decodes as values or pointers), recursively, and the members of a path archive.
func walkArchive(a *resource.Archive, prefix string, fn func(name string, r io.Reader) error) error {
	if !a.IsAssets() {
		reader, err := a.Open()
		if err != nil {
			return err
		}
		defer func() { _ = reader.Close() }()
		for {
			name, blob, err := reader.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			err = fn(path.Join(prefix, name), blob)
			_ = blob.Close()
			if err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(a.Assets))
	for name := range a.Assets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		full := path.Join(prefix, name)
		var err error
		switch v := a.Assets[name].(type) {
		case *resource.Asset:
			err = writeAsset(v, full, fn)
		case resource.Asset:
			err = writeAsset(&v, full, fn)
		case *resource.Archive:
			err = walkArchive(v, full, fn)
		case resource.Archive:
			err = walkArchive(&v, full, fn)
		case map[string]any:
			// Nested entries arrive in their serialized form.
			if asset, ok, derr := resource.DeserializeAsset(v); derr != nil || ok {
				if derr != nil {
					return fmt.Errorf("archive entry %s: %w", full, derr)
				}
				err = writeAsset(asset, full, fn)
			} else if archive, ok, derr := resource.DeserializeArchive(v); derr != nil || ok {
				if derr != nil {
					return fmt.Errorf("archive entry %s: %w", full, derr)
				}
				err = walkArchive(archive, full, fn)
			} else {
				err = fmt.Errorf("archive entry %s is neither an asset nor an archive", full)
			}
		default:
			err = fmt.Errorf("archive entry %s is a %T, not an asset or archive", full, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func writeAsset(a *resource.Asset, name string, fn func(string, io.Reader) error) error {
	b, err := a.Bytes()
	if err != nil {
		return fmt.Errorf("reading archive entry %s: %w", name, err)
	}
	return fn(name, bytes.NewReader(b))
}
