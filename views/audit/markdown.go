package audit

import (
	"fmt"
	"strings"

	faudit "authlab/flows/audit"
	"authlab/views/render"
)

// Markdown is the report as a Markdown document: the target, the baseline,
// a table of the cases (name, level, what was sent, status, verdict,
// reference), the details of every case not rejected, the leeway and the
// summary. It holds no token: cases say in words what was sent.
func Markdown(r *faudit.Report) string {
	var b strings.Builder
	cell := func(s string) string {
		s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
		return strings.ReplaceAll(render.Printable(s), "|", `\|`)
	}
	fmt.Fprintf(&b, "# Token validation audit of %s\n\n", cell(r.Target))
	fmt.Fprintf(&b, "- Baseline: valid token HTTP %d, no token HTTP %d\n", r.Baseline.Status, r.Baseline.NoTokenStatus)
	if r.Signer != "" {
		fmt.Fprintf(&b, "- Claims cases signed by %s\n", cell(r.Signer))
	}
	fmt.Fprintf(&b, "- %s\n", cell(r.LeewayLine()))
	fmt.Fprintf(&b, "- **%s**\n\n", cell(r.Summary()))
	b.WriteString("| Case | Level | Sent | Status | Verdict | Reference |\n|---|---|---|---|---|---|\n")
	for _, c := range r.Cases {
		status := "-"
		if c.Status != 0 {
			status = fmt.Sprint(c.Status)
		}
		verdict := string(c.Verdict)
		switch {
		case c.Verdict == faudit.Accepted && c.Level == faudit.Must:
			verdict = "**ACCEPTED**"
		case c.Verdict == faudit.Accepted || c.ServerError():
			verdict += " (warning)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", c.Name, c.Level, cell(c.Sent), status, verdict, cell(c.Reference))
	}
	var notes []string
	for _, c := range r.Cases {
		if c.Verdict != faudit.Rejected {
			notes = append(notes, fmt.Sprintf("- `%s` (%s): %s", c.Name, c.Verdict, cell(c.Detail)))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n## Details\n\n" + strings.Join(notes, "\n") + "\n")
	}
	return b.String()
}
