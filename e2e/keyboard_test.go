package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"pcsupport/internal/devidp"
)

// focusState is what a person sees of the element that has keyboard focus.
type focusState struct {
	Desc         string  `json:"desc"`         // e.g. "input#telephone"
	FocusVisible bool    `json:"focusVisible"` // matches :focus-visible, as after a key press
	Outline      string  `json:"outline"`      // computed outline style, width and colour
	OutlineWidth float64 `json:"outlineWidth"`
	BoxShadow    string  `json:"boxShadow"`
	Width        float64 `json:"width"` // of its box: 0 when it is not shown
	Height       float64 `json:"height"`
}

const focusStateJS = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body) return {desc: "body"};
	const cs = getComputedStyle(e), r = e.getBoundingClientRect();
	return {desc: e.localName + (e.id ? "#" + e.id : "") + (e.name ? "[name=" + e.name + "]" : "") + (e.textContent.trim() ? " " + JSON.stringify(e.textContent.trim().slice(0, 40)) : ""),
		focusVisible: e.matches(":focus-visible"),
		outline: cs.outlineStyle + " " + cs.outlineWidth + " " + cs.outlineColor, outlineWidth: parseFloat(cs.outlineWidth) || 0,
		boxShadow: cs.boxShadow, width: r.width, height: r.height};
})()`

// ringShown reports whether focus is visible on the element: a solid outline of 2 px or more
// (the app's ring, or the dev sign-in page's), or a box shadow.
func (f focusState) ringShown() bool {
	// Larger than the 1 px box of a visually hidden element (the skip link until it has focus).
	return f.FocusVisible && f.Width > 4 && f.Height > 4 &&
		((f.OutlineWidth >= 2 && !strings.HasPrefix(f.Outline, "none")) || (f.BoxShadow != "" && f.BoxShadow != "none"))
}

// press sends one key (kb.Tab, kb.Enter, ...) as a person would, optionally with Shift, and
// returns where focus is afterwards.
func press(t *testing.T, ctx context.Context, key string, mods ...chromedp.Modifier) focusState {
	t.Helper()
	must(t, chromedp.Do(ctx, chromedp.KeyEvent(key, chromedp.KeyModifiers(mods...))))
	return cdp(t, ctx, chromedp.Evaluate[focusState](focusStateJS))
}

// tabTo presses Tab until the element matching desc (a prefix of focusState.Desc) has focus,
// checking on the way that every element reached shows a focus ring. It returns the elements
// reached, in order.
func tabTo(t *testing.T, ctx context.Context, desc string, mods ...chromedp.Modifier) []string {
	t.Helper()
	var reached []string
	for range 30 {
		f := press(t, ctx, kb.Tab, mods...)
		reached = append(reached, f.Desc)
		if f.Desc != "body" && !f.ringShown() {
			t.Errorf("no visible focus ring on %s: outline %q, box-shadow %q, :focus-visible %v, size %.0fx%.0f",
				f.Desc, f.Outline, f.BoxShadow, f.FocusVisible, f.Width, f.Height)
		}
		if strings.HasPrefix(f.Desc, desc) {
			return reached
		}
	}
	t.Fatalf("Tab never reached %s; reached %q", desc, reached)
	return nil
}

// With the keyboard alone (Tab, Shift+Tab, Enter and typing; no click), a person signs in,
// changes the telephone and saves; every control they pass shows a focus ring, the skip link
// leads to the content, and focus lands on the outcome.
func TestBrowserKeyboardOnly(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	ctx := newChrome(t)

	// The dev sign-in page: Tab through to Cancel, Shift+Tab back to the first persona, Enter.
	must(t, chromedp.Do(ctx, chromedp.Navigate(app.url), chromedp.WaitVisible(chromedp.ID("persona-admin"))))
	tabTo(t, ctx, "button#cancel")
	tabTo(t, ctx, "button#persona-admin", chromedp.ModifierShift)
	press(t, ctx, kb.Enter)
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("telephone"))))

	// Through the whole page, every control with its ring; the skip link comes first and is
	// shown when focused.
	reached := tabTo(t, ctx, "a \"Open the same settings in Partner Center")
	if !strings.HasPrefix(reached[0], `a "Skip to content"`) {
		t.Errorf("the first Tab reached %q, want the skip link", reached[0])
	}
	for _, want := range []string{`button "Français"`, "summary", `button "Sign out"`, `a "Partner Center emulator"`, "input#email", "input#telephone", "input#website", `button "Save"`} {
		if !containsPrefix(reached, want) {
			t.Errorf("Tab never reached %s; reached %q", want, reached)
		}
	}

	// Back to the top, through the skip link to the form: the next Tab is the first field.
	must(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("telephone"))))
	tabTo(t, ctx, `a "Skip to content"`)
	press(t, ctx, kb.Enter)
	if f := press(t, ctx, kb.Tab); f.Desc != "input#email[name=email]" {
		t.Errorf("after the skip link, Tab reached %s, want the first field", f.Desc)
	}

	// Edit: Tab to the website, Shift+Tab back onto the telephone (which selects its text), and
	// type over it.
	tabTo(t, ctx, "input#website")
	if f := press(t, ctx, kb.Tab, chromedp.ModifierShift); f.Desc != "input#telephone[name=telephone]" {
		t.Fatalf("Shift+Tab from the website reached %s", f.Desc)
	}
	must(t, chromedp.Do(ctx, chromedp.KeyEvent("+33 1 98 76 54 32")))
	if v := cdp(t, ctx, chromedp.Value(chromedp.ID("telephone"))); v != "+33 1 98 76 54 32" {
		t.Fatalf("typed telephone reads %q", v)
	}
	marks := cdp(t, ctx, chromedp.Evaluate[[]bool](`["email", "telephone", "website"].map(n => !document.getElementById(n + "-changed").hidden)`))
	if marks[0] || !marks[1] || marks[2] {
		t.Errorf("changed marks (email, telephone, website) = %v, want only the telephone's", marks)
	}

	// Save with Enter on the button; focus moves to the message, with its ring.
	tabTo(t, ctx, `button "Save"`)
	expectSwap(t, ctx)
	press(t, ctx, kb.Enter)
	waitSettled(t, ctx)
	f := cdp(t, ctx, chromedp.Evaluate[focusState](focusStateJS))
	if !strings.HasPrefix(f.Desc, "div#notice") || !strings.Contains(f.Desc, "Saved") {
		t.Errorf("after saving, focus is on %s, want the success message", f.Desc)
	} else if !f.ringShown() {
		t.Errorf("the focused message shows no focus ring: %+v", f)
	}
	if _, tel, _ := app.profile(t, devidp.TenantID); tel != "+33 1 98 76 54 32" {
		t.Errorf("Partner Center holds %q", tel)
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
