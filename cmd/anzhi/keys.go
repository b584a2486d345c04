package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/publishers/ledger"
)

// personKeyBytes is the size of a person key made by anzhi keys new.
const personKeyBytes = 32

const keysNewLong = `Make a new person key: 32 random bytes, written as hex to -o with mode
0600. Every department of one deployment must use the same key (the lead
office makes it once and hands it out), or the same person gets a different
person_key in each department's facts and nothing connects. Pass it to
anzhi import with --key-file, or in ` + ledger.KeyEnv + `.

An existing file is never overwritten without --force: a lost key means
facts published with it can no longer be matched to new ones.`

// newKeysCmd builds anzhi keys and its subcommands.
func newKeysCmd(a *app) *cobra.Command {
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Manage the deployment's person key",
		Args:  cobra.NoArgs,
	}
	var out string
	var force bool
	newCmd := &cobra.Command{
		Use:     "new -o FILE [--force]",
		Short:   "Make a new random person key for anzhi import",
		Long:    keysNewLong,
		Example: "  anzhi keys new -o person.key\n  anzhi import --dept edu --family edu.enrolment --file 入学台账.csv --key-file person.key",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if out == "" {
				return usageErrorf("-o FILE is required: where to write the key")
			}
			if err := writePersonKey(out, force); err != nil {
				return err
			}
			_, err := fmt.Fprintf(a.stderr, "wrote a new person key to %s (%d random bytes, hex, mode 0600); give every department the same key\n", out, personKeyBytes)
			return err
		},
	}
	newCmd.Flags().StringVarP(&out, "output", "o", "", "file to write the key to (required)")
	newCmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	keys.AddCommand(newCmd)
	return keys
}

// writePersonKey writes a new random key, hex and a newline, to path with
// mode 0600. Without force an existing path is refused; with force the key
// replaces it whole (a new file renamed over it), so the mode is 0600 even
// when the old file was readable by others.
func writePersonKey(path string, force bool) (err error) {
	key := make([]byte, personKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("make a person key: %w", err)
	}
	text := []byte(hex.EncodeToString(key) + "\n")
	if !force {
		return writeNewFile(path, text)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usageErrorf("%s is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".person-key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("write the person key: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return fmt.Errorf("write the person key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write the person key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the person key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write the person key: %w", err)
	}
	return nil
}

// writeNewFile writes text to path, which must not exist yet, with mode
// 0600.
func writeNewFile(path string, text []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return usageErrorf("%s exists: not overwriting a person key (facts made with it would no longer match); use --force to replace it", path)
	}
	if err != nil {
		return fmt.Errorf("write the person key: %w", err)
	}
	defer keepErr(&err, "write the person key "+path, f.Close)
	if _, err := f.Write(text); err != nil {
		return fmt.Errorf("write the person key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write the person key %s: %w", path, err)
	}
	return nil
}
