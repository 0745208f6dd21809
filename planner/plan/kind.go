package plan

import (
	"encoding/json"
	"fmt"
)

// Kind is what a step does.
type Kind int

// The step kinds.
const (
	KindInvalid Kind = iota
	KindCheck        // run checks of one phase; a critical failure stops the release
	KindBackup       // dump a database before changing it
	KindMigrate      // apply pending migrations
	KindStart        // create and start containers of a new release
	KindHealth       // wait until started containers pass their health gate
	KindTraffic      // move requests between the stable and candidate groups
	KindAnalyse      // read metrics for a window and give a verdict
	KindPause        // wait, or stop at an approval gate
	KindStop         // stop containers, keeping them for rollback
	KindRemove       // remove containers
	KindNotify       // tell the team
	KindUpdate       // change live containers in place (their restart policy), without a restart
	KindBuild        // build a service's image from source, tagged with its image reference
	KindPull         // pull a service's image by the digest pinned at plan time
	KindTag          // point an image reference at another image again (the undo of a build or a pull)
)

var kindNames = [...]string{"invalid", "check", "backup", "migrate", "start", "health", "traffic", "analyse", "pause", "stop", "remove", "notify", "update", "build", "pull", "tag"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Prepares reports whether a step of the kind only gets an image ready
// in the engine (build, pull, tag): it changes nothing that runs or
// serves, so a release that fails there fails before anything changed.
func (k Kind) Prepares() bool { return k == KindBuild || k == KindPull || k == KindTag }

// MarshalText encodes the kind by name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) && i != 0 {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown step kind %q", b)
}

// Action is how a step changes the world, shown with Terraform's symbols.
type Action int

// The actions.
const (
	NoOp   Action = iota // reads or waits: "·"
	Create               // "+"
	Update               // "~"
	Delete               // "-"
)

var actionSymbols = [...]string{"·", "+", "~", "-"}
var actionNames = [...]string{"no-op", "create", "update", "delete"}

// Symbol is the one-character mark of the action in text plans.
func (a Action) Symbol() string { return actionSymbols[a] }

func (a Action) String() string { return actionNames[a] }

// MarshalJSON encodes the action by name.
func (a Action) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON decodes an action name.
func (a *Action) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for i, n := range actionNames {
		if n == s {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", s)
}
