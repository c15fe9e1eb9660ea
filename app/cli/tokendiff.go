package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"authlab/flows/token"
	"authlab/views/render"
)

func newTokenDiffCmd(g *globals) *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two tokens' header and claims, and say what the differences mean",
		Long: `Compare two JWTs side by side: header parameters and claims that were
added (only in B), removed (only in A) or changed, times in words, and what
a difference means where that is known ("aud differs: an API that accepts A
rejects B", "B expires 55 min earlier").

A and B are each a token, a file holding one, or '-' for stdin (one of them).
Signatures are not verified (use authlab token inspect for that).

Exit status (like diff): 0 the claims are the same (the header may differ:
a new kid after key rotation is normal); 1 the claims differ; 2 bad input.`,
		Example: `  authlab token diff "$GOOD" "$BAD"
  authlab token diff works.jwt - < fails.jwt
  authlab token diff --json a.jwt b.jwt | jq '.fields[] | select(.change != "same")'`,
		Args: exactArgs(2, "two tokens (A and B)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenDiff(g, args, asJSON, all)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().BoolVar(&all, "all", false, "also list the fields that are the same")
	return cmd
}

func runTokenDiff(g *globals, args []string, asJSON, all bool) error {
	if args[0] == "-" && args[1] == "-" {
		return usageErr("only one of A and B can be '-' (stdin)")
	}
	var decoded [2]*token.Decoded
	for i, a := range args {
		raw, err := tokReadArg(g, []string{a})
		if err != nil {
			return err
		}
		d, err := token.Decode(raw)
		if err != nil {
			return usageErr("token %s: %s", "AB"[i:i+1], render.Printable(err.Error()))
		}
		decoded[i] = d
	}
	diff, err := token.CompareTokens(decoded[0], decoded[1], time.Now())
	if err != nil {
		return usageErr("%s", render.Printable(err.Error()))
	}
	if asJSON {
		out := struct {
			*token.Diff
			A string `json:"a_fingerprint"`
			B string `json:"b_fingerprint"`
		}{diff, decoded[0].Fingerprint, decoded[1].Fingerprint}
		if err := tokWriteJSON(g.stdout, out); err != nil {
			return failErr(err)
		}
	} else if err := printTokenDiff(g.stdout, diff, decoded, all); err != nil {
		return failErr(err)
	}
	if !diff.SameClaims {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d claims differ", diff.ClaimDifferences()), quiet: true}
	}
	return nil
}

// printTokenDiff: one table per part, a marker column (+ added, - removed,
// ~ changed), then the meanings.
func printTokenDiff(w io.Writer, d *token.Diff, t [2]*token.Decoded, all bool) error {
	fmt.Fprintf(w, "A sha256:%s  B sha256:%s\n", t[0].Fingerprint[:12], t[1].Fingerprint[:12])
	if d.SameClaims && d.SameHeader {
		_, err := fmt.Fprintln(w, "\nSame header and claims.")
		return err
	}
	for _, part := range []string{"header", "claims"} {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		rows := 0
		for _, f := range d.Fields {
			if f.Part != part || f.Change == token.Same && !all {
				continue
			}
			if rows == 0 {
				fmt.Fprintf(tw, "\n%s\t\tA\tB\n", strings.ToUpper(part[:1])+part[1:])
			}
			rows++
			mark := map[token.Change]string{token.Same: " ", token.Added: "+", token.Removed: "-", token.Changed: "~"}[f.Change]
			fmt.Fprintf(tw, "%s %s\t\t%s\t%s\n", mark, render.Printable(f.Name), diffCell(f.AText, f.Change == token.Added), diffCell(f.BText, f.Change == token.Removed))
		}
		if rows == 0 {
			fmt.Fprintf(tw, "\n%s: same\n", strings.ToUpper(part[:1])+part[1:])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	var notes []string
	for _, f := range d.Differences() {
		if f.Meaning != "" {
			notes = append(notes, "  "+render.Printable(f.Meaning))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\nWhat it means\n%s\n", strings.Join(notes, "\n"))
	}
	return nil
}

func diffCell(s string, absent bool) string {
	if absent {
		return "(absent)"
	}
	return oneLine(s, 60)
}
