package checks

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
)

// Diagnostics validates the attributes of each check block of cfg against
// its kind (Validate): the configuration keeps them free-form, this
// package knows them. An error that quotes a sensitive value (of any
// length: this is no free text to mask but an error to withhold) is not
// shown.
func Diagnostics(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	secrets := cfg.SensitiveValues()
	for _, c := range cfg.Checks {
		if err := Validate(c); err != nil {
			msg := err.Error()
			for _, v := range secrets {
				if strings.Contains(msg, v) {
					msg = "an attribute derived from a sensitive value is invalid; the details are not shown because they would reveal it"
					break
				}
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid Check",
				Detail: fmt.Sprintf("Check %q (%s): %s.", c.Name, c.Kind, msg), Subject: c.DeclRange.Ptr()})
		}
	}
	return diags
}
