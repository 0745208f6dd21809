package statefile

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/slipwayhq/slipway/state"
)

// fileV1 is the on-disk shape of format version 1. Field order is the order
// in the file.
type fileV1 struct {
	FormatVersion int                    `json:"format_version"`
	Lineage       string                 `json:"lineage"`
	Serial        uint64                 `json:"serial"`
	Release       int                    `json:"release"`
	Project       string                 `json:"project"`
	Env           string                 `json:"env"`
	ConfigHash    string                 `json:"config_hash"`
	UpdatedAt     time.Time              `json:"updated_at,omitzero"`
	Services      map[string]*serviceV1  `json:"services"`
	Databases     map[string]*databaseV1 `json:"databases"`
	Secrets       map[string]string      `json:"secrets"`
}

// serviceV1 is a service; its name is its key in fileV1.Services.
type serviceV1 struct {
	Strategy      string         `json:"strategy"`
	Image         string         `json:"image"`
	ImageID       string         `json:"image_id"`
	ImageDigest   string         `json:"image_digest,omitempty"`
	Version       string         `json:"version"`
	Release       int            `json:"release"`
	ConfigHash    string         `json:"config_hash"`
	Color         string         `json:"color,omitempty"`
	Weights       map[string]int `json:"weights,omitempty"`
	Containers    []containerV1  `json:"containers"`
	Previous      *previousV1    `json:"previous,omitempty"`
	RouteFile     string         `json:"route_file,omitempty"`
	RouteChecksum string         `json:"route_checksum,omitempty"`
}

type previousV1 struct {
	Release    int           `json:"release"`
	Image      string        `json:"image"`
	ImageID    string        `json:"image_id"`
	Version    string        `json:"version"`
	Color      string        `json:"color,omitempty"`
	Containers []containerV1 `json:"containers"`
	Kept       string        `json:"kept"`
}

type containerV1 struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Color    string `json:"color,omitempty"`
	Release  int    `json:"release"`
	Index    int    `json:"index"`
	HostAddr string `json:"host_addr"`
	ImageID  string `json:"image_id"`
}

// databaseV1 is a database; its name is its key in fileV1.Databases.
type databaseV1 struct {
	Migrations []migrationV1 `json:"migrations"`
	LastBackup *backupV1     `json:"last_backup,omitempty"`
	Dirty      string        `json:"dirty,omitempty"`
}

type migrationV1 struct {
	Version   string    `json:"version"`
	Name      string    `json:"name"`
	Checksum  string    `json:"checksum"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
	Release   int       `json:"release"`
}

type backupV1 struct {
	Path      string    `json:"path"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	Release   int       `json:"release"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// fromState converts the model to the file shape, validating what Read
// would refuse.
func fromState(s *state.State) (*fileV1, error) {
	f := &fileV1{
		FormatVersion: FormatVersion,
		Lineage:       s.Lineage,
		Serial:        s.Serial,
		Release:       s.Release,
		Project:       s.Project,
		Env:           s.Env,
		ConfigHash:    s.ConfigHash,
		Services:      map[string]*serviceV1{},
		Databases:     map[string]*databaseV1{},
		Secrets:       map[string]string{},
	}
	var err error
	if f.UpdatedAt, err = utc(s.UpdatedAt, "updated_at"); err != nil {
		return nil, err
	}
	for name, v := range s.Services {
		if v == nil {
			return nil, fmt.Errorf("service %q is nil", name)
		}
		if v.Name != name {
			return nil, fmt.Errorf("service %q is named %q", name, v.Name)
		}
		f.Services[name] = &serviceV1{
			Strategy: v.Strategy, Image: v.Image, ImageID: v.ImageID, ImageDigest: v.ImageDigest, Version: v.Version,
			Release: v.Release, ConfigHash: v.ConfigHash, Color: v.Color,
			Weights: v.Weights, Containers: fromContainers(v.Containers),
			RouteFile: v.RouteFile, RouteChecksum: v.RouteChecksum,
		}
		if p := v.Previous; p != nil {
			f.Services[name].Previous = &previousV1{
				Release: p.Release, Image: p.Image, ImageID: p.ImageID, Version: p.Version,
				Color: p.Color, Containers: fromContainers(p.Containers), Kept: p.Kept,
			}
		}
	}
	for name, d := range s.Databases {
		if d == nil {
			return nil, fmt.Errorf("database %q is nil", name)
		}
		if d.Name != name {
			return nil, fmt.Errorf("database %q is named %q", name, d.Name)
		}
		fd := &databaseV1{Migrations: []migrationV1{}, Dirty: d.Dirty}
		for _, m := range d.Migrations {
			at, err := utc(m.AppliedAt, "migration applied_at")
			if err != nil {
				return nil, err
			}
			fd.Migrations = append(fd.Migrations, migrationV1{
				Version: m.Version, Name: m.Name, Checksum: m.Checksum, AppliedAt: at, Release: m.Release})
		}
		if b := d.LastBackup; b != nil {
			at, err := utc(b.CreatedAt, "backup created_at")
			if err != nil {
				return nil, err
			}
			fd.LastBackup = &backupV1{Path: b.Path, SHA256: b.SHA256, Size: b.Size, Release: b.Release, CreatedAt: at}
		}
		f.Databases[name] = fd
	}
	for id, h := range s.Secrets {
		if !isHMAC(h) {
			return nil, fmt.Errorf("secret %q is not a hex HMAC-SHA256; refusing to store what may be the value itself", id)
		}
		f.Secrets[id] = h
	}
	return f, nil
}

func fromContainers(cs []state.Container) []containerV1 {
	out := make([]containerV1, 0, len(cs))
	for _, c := range cs {
		out = append(out, containerV1(c))
	}
	return out
}

// toState converts the file shape to the model, validating it.
func (f *fileV1) toState() (*state.State, error) {
	s := state.New(f.Project, f.Env)
	s.Lineage, s.Serial, s.Release, s.ConfigHash = f.Lineage, f.Serial, f.Release, f.ConfigHash
	var err error
	if s.UpdatedAt, err = utc(f.UpdatedAt, "updated_at"); err != nil {
		return nil, corruptf("%v", err)
	}
	if f.Release < 0 {
		return nil, corruptf("negative release %d", f.Release)
	}
	for _, name := range slices.Sorted(maps.Keys(f.Services)) {
		v := f.Services[name]
		if v == nil {
			return nil, corruptf("service %q is null", name)
		}
		sv := &state.Service{
			Name: name, Strategy: v.Strategy, Image: v.Image, ImageID: v.ImageID, ImageDigest: v.ImageDigest, Version: v.Version,
			Release: v.Release, ConfigHash: v.ConfigHash, Color: v.Color,
			Containers: toContainers(v.Containers), RouteFile: v.RouteFile, RouteChecksum: v.RouteChecksum,
		}
		if len(v.Weights) > 0 {
			sv.Weights = v.Weights
		}
		if p := v.Previous; p != nil {
			sv.Previous = &state.Previous{
				Release: p.Release, Image: p.Image, ImageID: p.ImageID, Version: p.Version,
				Color: p.Color, Containers: toContainers(p.Containers), Kept: p.Kept,
			}
		}
		s.Services[name] = sv
	}
	for _, name := range slices.Sorted(maps.Keys(f.Databases)) {
		d := f.Databases[name]
		if d == nil {
			return nil, corruptf("database %q is null", name)
		}
		sd := &state.Database{Name: name, Dirty: d.Dirty}
		for _, m := range d.Migrations {
			at, err := utc(m.AppliedAt, "migration applied_at")
			if err != nil {
				return nil, corruptf("database %q: %v", name, err)
			}
			sd.Migrations = append(sd.Migrations, state.Migration{
				Version: m.Version, Name: m.Name, Checksum: m.Checksum, AppliedAt: at, Release: m.Release})
		}
		if b := d.LastBackup; b != nil {
			at, err := utc(b.CreatedAt, "backup created_at")
			if err != nil {
				return nil, corruptf("database %q: %v", name, err)
			}
			sd.LastBackup = &state.Backup{Path: b.Path, SHA256: b.SHA256, Size: b.Size, Release: b.Release, CreatedAt: at}
		}
		s.Databases[name] = sd
	}
	for id, h := range f.Secrets {
		if !isHMAC(h) {
			return nil, corruptf("secret %q is not a hex HMAC-SHA256", id)
		}
		s.Secrets[id] = h
	}
	return s, nil
}

func toContainers(cs []containerV1) []state.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]state.Container, 0, len(cs))
	for _, c := range cs {
		out = append(out, state.Container(c))
	}
	return out
}
