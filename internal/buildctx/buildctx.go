// Package buildctx reads an image's build context from a directory: the
// files the Docker engine is sent (without what .dockerignore leaves out,
// as the docker command does), packed as a tar stream, and the digest
// that names exactly what is sent together with the build's Dockerfile,
// arguments and target. A plan compares that digest with the label of
// the images built before, so an unchanged source is never built again.
//
// The digest covers each file's path, type, permission bits and content
// (a symbolic link's target), never modification times or owners, so
// that a fresh checkout of the same source has the same digest. It does
// not cover the base images the Dockerfile names.
package buildctx

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Spec names a build context: the directory, the Dockerfile's path inside
// it, the build arguments and the target stage.
type Spec struct {
	Dir        string
	Dockerfile string
	Args       map[string]string
	Target     string
}

// Digest returns the digest ("sha256:<hex>") of what a build of s sends
// and asks, reading every file of the context once.
func Digest(s Spec) (string, error) {
	return Write(io.Discard, s)
}

// Write writes the context of s to w as a tar stream and returns its
// digest (see Digest). Entries are in path order with fixed times and
// owners, so one source always makes the same stream.
func Write(w io.Writer, s Spec) (string, error) {
	entries, err := list(s)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := e.write(tw, h, s.Dir); err != nil {
			return "", fmt.Errorf("build context %s: %w", s.Dir, err)
		}
	}
	if err := tw.Close(); err != nil {
		return "", fmt.Errorf("build context %s: %w", s.Dir, err)
	}
	fmt.Fprintf(h, "dockerfile %q\ntarget %q\n", filepath.ToSlash(s.Dockerfile), s.Target)
	names := make([]string, 0, len(s.Args))
	for k := range s.Args {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(h, "arg %q=%q\n", k, s.Args[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// entry is one path of the context, relative and with forward slashes.
type entry struct {
	rel  string
	mode fs.FileMode
}

// epoch is the modification time every entry is sent with.
var epoch = time.Unix(0, 0).UTC()

// write adds the entry to the tar stream and its description to h.
func (e entry) write(tw *tar.Writer, h io.Writer, dir string) error {
	path := filepath.Join(dir, filepath.FromSlash(e.rel))
	hdr := &tar.Header{Name: e.rel, Mode: int64(e.mode.Perm()), ModTime: epoch, Format: tar.FormatPAX}
	switch {
	case e.mode.IsDir():
		hdr.Typeflag, hdr.Name = tar.TypeDir, e.rel+"/"
		fmt.Fprintf(h, "d %q %o\n", e.rel, e.mode.Perm())
		return tw.WriteHeader(hdr)
	case e.mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		fmt.Fprintf(h, "l %q %q\n", e.rel, target)
		return tw.WriteHeader(hdr)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, sum), f)
	if err != nil {
		return err
	}
	if n != fi.Size() {
		return fmt.Errorf("%s changed while it was read", e.rel)
	}
	fmt.Fprintf(h, "f %q %o %s\n", e.rel, e.mode.Perm(), hex.EncodeToString(sum.Sum(nil)))
	return nil
}

// list returns the entries of the context in path order: every
// directory, regular file and symbolic link under s.Dir that .dockerignore
// does not leave out, and always the Dockerfile and .dockerignore
// themselves (the engine needs them).
func list(s Spec) ([]entry, error) {
	fi, err := os.Stat(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("build context %s is not a directory", s.Dir)
	}
	df := filepath.ToSlash(filepath.Clean(s.Dockerfile))
	if st, err := os.Stat(filepath.Join(s.Dir, filepath.FromSlash(df))); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("build context %s has no Dockerfile %s", s.Dir, df)
	}
	pm, err := ignored(s.Dir)
	if err != nil {
		return nil, err
	}
	var out []entry
	err = filepath.WalkDir(s.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(s.Dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip, err := pm.MatchesOrParentMatches(rel); err != nil {
			return err
		} else if skip && rel != df && rel != ".dockerignore" {
			if d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		t := d.Type()
		if t.IsRegular() || t.IsDir() || t&fs.ModeSymlink != 0 {
			info, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, entry{rel: rel, mode: info.Mode()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", s.Dir, err)
	}
	return out, nil
}

// ignored reads the context's .dockerignore; no file ignores nothing.
func ignored(dir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return patternmatcher.New(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("build context: .dockerignore: %w", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("build context: .dockerignore: %s", strings.TrimSpace(err.Error()))
	}
	return pm, nil
}
