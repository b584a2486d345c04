// Command department-publisher is the first of anzhi's examples: a
// department sharing facts with a running hub through the publishers
// library.
//
// It plays the city's poverty alleviation office (市扶贫局, department code
// "poverty"), which registers relocated households and their members. It
//
//  1. computes each member's person_key from an ID-card number with the
//     deployment's HMAC key, as the ledger import does (the number itself
//     never leaves the department: the hub refuses any event carrying one);
//  2. publishes a household and its three members, printing each receipt;
//  3. tries to publish a member with a bad birth year and labour capacity:
//     the library refuses it before sending and names every violation;
//  4. sends that bad fact anyway, unchecked (as `anzhi publish --no-check`
//     does, or a department's own NATS code would), and prints the hub's
//     verdict from the department's rejection notice.
//
// Run it against a hub (go run ./cmd/anzhi hub):
//
//	go run ./examples/01-department-publisher
//
// Running it twice is harmless: a fact's id is derived from what it says,
// so the second run's receipts say "duplicate" and nothing counts twice.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/idcard"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/publishers/ledger"
)

// demoKey is the HMAC key used when neither --key-file nor ANZHI_PERSON_KEY
// gives one. A real deployment has one secret key shared by every
// department (so that the same person gets the same key everywhere) and
// never by the hub.
const demoKey = "anzhi example key — not a secret"

// department is who this example publishes as.
const department = "poverty"

// chinaTime is the zone the office's dates are in.
var chinaTime = time.FixedZone("CST", 8*3600)

func main() {
	natsURL := flag.String("nats-url", nats.DefaultURL, "NATS server of the hub")
	keyFile := flag.String("key-file", "", "file with the deployment's person key (default: $"+ledger.KeyEnv+", else a demo key)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *natsURL, *keyFile, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "department-publisher:", err)
		if ctx.Err() != nil {
			os.Exit(130) // interrupted
		}
		os.Exit(1)
	}
}

// run connects to NATS and publishes.
func run(ctx context.Context, natsURL, keyFile string, w io.Writer) error {
	key, err := ledger.LoadKey(keyFile)
	if errors.Is(err, ledger.ErrNoKey) {
		fmt.Fprintf(w, "no person key given (--key-file or $%s): using the example's demo key\n", ledger.KeyEnv)
		key, err = []byte(demoKey), nil
	}
	if err != nil {
		return err
	}
	nc, err := nats.Connect(natsURL, nats.Name("anzhi example: department publisher"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", natsURL, err)
	}
	defer nc.Close()
	return publish(ctx, nc, key, w)
}

// member is a household member as the office's own records hold them: with
// the ID-card number, which is turned into a person key before anything is
// published. The numbers are made up (valid check digits, nobody's).
type member struct {
	idNumber string
	relation string
	born     int
	sex      string
	labour   string
}

var members = []member{
	{"61042419780312003X", "head", 1978, "male", "full"},
	{"610424198007050020", "spouse", 1980, "female", "full"},
	{"610424201209010048", "child", 2012, "female", "student"},
}

// publish publishes the example's facts on nc as the poverty office, with
// key as the deployment's person key, and writes what happens to w.
func publish(ctx context.Context, nc *nats.Conn, key []byte, w io.Writer) error {
	// One publisher per department; it checks every fact against the
	// same contract the hub enforces, before sending.
	pub, err := publishers.New(nc, department)
	if err != nil {
		return err
	}
	relocated := time.Date(2019, 11, 15, 0, 0, 0, 0, chinaTime)

	// A fact is a family, the time it took effect and its data. The
	// subject (the household id), the county token (610424, from the
	// household id) and the id are derived from the data.
	household := publishers.Fact{
		Family: "registry.household",
		Time:   relocated,
		Data: map[string]any{
			"household_id": "H610424-000901", "site_id": "S610424-0001", "size": len(members),
			"labour_count": 2, "registered_poor": true, "relocated_on": "2019-11-15", "origin_area": "610424",
		},
	}
	facts := []publishers.Fact{household}
	var headKey string
	for _, m := range members {
		// person_key is the hex HMAC-SHA256 of the normalised number
		// under the deployment's key: exactly what `anzhi import` computes
		// for a ledger's ID-number column.
		personKey, err := idcard.PersonKey(key, m.idNumber)
		if err != nil {
			return fmt.Errorf("member %s: %w", idcard.Mask(m.idNumber), err)
		}
		if m.relation == "head" {
			headKey = personKey
		}
		facts = append(facts, publishers.Fact{
			Family: "registry.person",
			Time:   relocated,
			Data: map[string]any{
				"person_key": personKey, "household_id": "H610424-000901", "relation": m.relation,
				"birth_year": m.born, "sex": m.sex, "labour_capacity": m.labour, "disability": "none",
			},
		})
	}

	// Publish waits until JetStream has stored the fact in the hub's
	// intake: the receipt is that acknowledgement. The hub judges it a
	// moment later; a valid fact is then in the canonical log and the view.
	for _, f := range facts {
		r, err := pub.Publish(ctx, f)
		if err != nil {
			return fmt.Errorf("publish %s: %w", f.Family, err)
		}
		printReceipt(w, f.Family, r)
	}

	// A bad fact: 1850 is before the schema's earliest birth year and
	// "strong" is not a labour capacity. The library refuses it without
	// sending anything, naming every violation with its JSON pointer.
	bad := publishers.Fact{
		Family: "registry.person",
		Time:   relocated,
		Data: map[string]any{
			"person_key": headKey, "household_id": "H610424-000901",
			"relation": "head", "birth_year": 1850, "sex": "male", "labour_capacity": "strong",
		},
	}
	_, err = pub.Publish(ctx, bad)
	var invalid *fact.ValidationError
	if !errors.As(err, &invalid) {
		return fmt.Errorf("the bad fact was not refused locally: %v", err)
	}
	fmt.Fprintf(w, "refused before sending: %s\n", bad.Family)
	for _, v := range invalid.Violations {
		fmt.Fprintf(w, "  %s %s: %s\n", v.Reason, v.Pointer, v.Message)
	}

	// The hub never trusts its publishers: sent unchecked, the same fact
	// gets the same verdict from the hub, kept in the rejection ledger of
	// the canonical log and announced on anzhi.rejected.<dept>.
	return sendUnchecked(ctx, nc, pub, bad, w)
}

// sendUnchecked publishes f without the local check and prints the hub's
// verdict from the department's rejection notice.
func sendUnchecked(ctx context.Context, nc *nats.Conn, pub *publishers.Publisher, f publishers.Fact, w io.Writer) error {
	// Listen for the notice before sending, so as not to miss it.
	notices, err := nc.SubscribeSync(fact.RejectedSubject(department))
	if err != nil {
		return err
	}
	defer func() { _ = notices.Unsubscribe() }()
	msg, err := pub.BuildUnchecked(f)
	if err != nil {
		return err
	}
	r, err := pub.PublishMsg(ctx, msg)
	if err != nil {
		return fmt.Errorf("publish unchecked: %w", err)
	}
	fmt.Fprint(w, "sent unchecked: ")
	printReceipt(w, f.Family, r)
	if r.Duplicate {
		// Within its duplicate window JetStream drops a repeat before
		// the hub sees it: the verdict is the one the ledger already has
		// (anzhi rejections --dept poverty).
		fmt.Fprintln(w, "the hub judged it already: see anzhi rejections --dept", department)
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		m, err := notices.NextMsgWithContext(wctx)
		if err != nil {
			return fmt.Errorf("no verdict from the hub on intake %d (is a hub running?): %w", r.Seq, err)
		}
		var rej fact.Rejection
		if err := json.Unmarshal(m.Data, &rej); err != nil || rej.IntakeSeq != r.Seq {
			continue // another fact's notice
		}
		fmt.Fprintf(w, "refused by the hub (intake %d):\n", rej.IntakeSeq)
		for _, v := range rej.Violations {
			fmt.Fprintf(w, "  %s %s: %s\n", v.Reason, v.Pointer, v.Message)
		}
		return nil
	}
}

// printReceipt prints what JetStream acknowledged.
func printReceipt(w io.Writer, family string, r publishers.Receipt) {
	state := "stored"
	if r.Duplicate {
		state = "duplicate"
	}
	fmt.Fprintf(w, "%-9s %-18s on %-27s intake seq %-4d id %s\n", state, family, r.Subject, r.Seq, r.ID)
}
