package publishers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/publishers"
)

// exampleHub starts a hub with an embedded NATS server on a free port and
// its data in a temporary directory, as `anzhi hub` does, and connects to
// it. stop closes everything.
func exampleHub() (h *hub.Hub, nc *nats.Conn, stop func(), err error) {
	dir, err := os.MkdirTemp("", "anzhi-example-")
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err = hub.Start(ctx, hub.Config{DataDir: dir, NATSListen: "127.0.0.1:0", TickEvery: -1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	if nc, err = nats.Connect(h.ClientURL()); err != nil {
		_ = h.Close()
		_ = os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	return h, nc, func() { nc.Close(); _ = h.Close(); _ = os.RemoveAll(dir) }, nil
}

// enrolmentFact is an enrolment the education bureau states. The child is
// identified by person_key, the HMAC of the ID-card number under the
// deployment's key (idcard.PersonKey), never by the number.
func enrolmentFact(level string) publishers.Fact {
	return publishers.Fact{
		Family: "edu.enrolment",
		Time:   time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC),
		Data: map[string]any{
			"person_key":   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"household_id": "H610424-000123", "action": "enrolled", "school_id": "SC610424-001",
			"level": level, "effective_on": "2020-09-01",
		},
	}
}

// A department publishes a fact: the library derives its subject, county
// token and id from the data, checks it as the hub will, and returns once
// JetStream has stored it. Publishing the same fact again is recognised.
func ExamplePublisher_Publish() {
	_, nc, stop, err := exampleHub()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	pub, err := publishers.New(nc, "edu") // the education bureau, 市教育局
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		r, err := pub.Publish(ctx, enrolmentFact("primary"))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("subject %s, intake seq %d, duplicate %v, id %s\n", r.Subject, r.Seq, r.Duplicate, r.ID)
	}
	// Output:
	// subject edu.enrolment.610424, intake seq 1, duplicate false, id edu.enrolment-b3bb8b03aae44de2c216c79ee222e689
	// subject edu.enrolment.610424, intake seq 1, duplicate true, id edu.enrolment-b3bb8b03aae44de2c216c79ee222e689
}

// A fact that breaks the contract is never sent: the error is a
// *fact.ValidationError naming every violation with its JSON pointer.
func ExamplePublisher_Publish_refused() {
	_, nc, stop, err := exampleHub()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	pub, err := publishers.New(nc, "edu")
	if err != nil {
		fmt.Println(err)
		return
	}
	bad := enrolmentFact("university") // not a school level of the catalog
	bad.Data.(map[string]any)["note"] = "身份证 11010519491231002X"
	_, err = pub.Publish(context.Background(), bad)

	var invalid *fact.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println("refused:", errors.Is(err, fact.ErrInvalid))
		for _, v := range invalid.Violations {
			fmt.Println(v.Reason, v.Pointer)
		}
	}
	// Output:
	// refused: true
	// id_number /data/note
	// schema /data/level
}

// JetStream's receipt says the intake stored the message; the hub's verdict
// says whether the fact went into the canonical log. A fact sent unchecked
// that breaks the contract is refused there, with every reason, ID-card
// numbers masked.
func ExampleReceipt_Verdict() {
	_, nc, stop, err := exampleHub()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pub, err := publishers.New(nc, "edu")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, level := range []string{"primary", "university"} {
		msg, err := pub.BuildUnchecked(enrolmentFact(level))
		if err != nil {
			fmt.Println(err)
			return
		}
		r, err := pub.PublishMsg(ctx, msg)
		if err != nil {
			fmt.Println(err)
			return
		}
		v, err := r.Verdict(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("intake seq %d: accepted %v\n", r.Seq, v.Accepted)
		for _, reason := range v.Reasons {
			fmt.Println("  refused for", reason.Reason, reason.Pointer)
		}
	}
	// Output:
	// intake seq 1: accepted true
	// intake seq 2: accepted false
	//   refused for schema /data/level
}
