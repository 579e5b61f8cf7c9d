"""The code compressor: outlines of real-looking sources in every supported language.

Every check reads the output back against the input: each line is an input line (byte-identical, in order) or a
marker standing for exactly the number of lines it says, so nothing is rewritten and every omission is named.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.runtime.compressors import Context
from headroom.runtime.compressors.code import compress

REF = "code0001"
MARKER = re.compile(r"(\s*)(#|//) \[headroom: ([\d,]+) lines? omitted; retrieve with ref=" + REF + r"\]")
PARAMS = {"max_body_lines": 3, "docstrings": True}

PYTHON = r'''"""Billing: invoices, taxes and the ledger they are booked into.

The ledger is append-only; corrections are new entries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

log = logging.getLogger(__name__)

TAX_RATES = {"EUR": Decimal("0.20"), "USD": Decimal("0.08")}
MAX_LINES = 500


@dataclass(frozen=True)
class Line:
    """One line of an order."""

    sku: str
    amount: Decimal
    rate: Decimal = Decimal("0")


class Ledger:
    """An append-only list of entries.

    Entries are never removed; a refund is a negative entry.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.entries: list[Decimal] = []
        self.closed = False
        self.version = 0
        log.debug("ledger opened for %s", owner)

    @property
    def balance(self) -> Decimal:
        """The sum of all entries."""
        total = Decimal(0)
        for entry in self.entries:
            total += entry
        log.debug("balance of %s is %s", self.owner, total)
        return total

    async def book(self, amount: Decimal, *, memo: str = "") -> int:
        """Book an amount and return its position.

        Raises ValueError when the ledger is closed.
        """
        if self.closed:
            raise ValueError("ledger closed")
        self.entries.append(amount)
        self.version += 1
        log.info("booked %s (%s)", amount, memo)
        return len(self.entries) - 1

    @staticmethod
    def merge(
        first: "Ledger",
        second: "Ledger",
    ) -> "Ledger":
        merged = Ledger(first.owner)
        merged.entries = first.entries + second.entries
        merged.version = first.version + second.version
        merged.closed = first.closed or second.closed
        return merged


def apply_tax(order, *, currency='EUR', strict=True):
    """Apply the tax table to an order; rounds half-even per line."""
    rate = TAX_RATES[currency]
    total = Decimal(0)
    for line in order.lines:
        taxed = line.amount * (1 + rate)
        total += taxed.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    if strict and total < 0:
        raise ValueError("negative total")
    return total


def reconcile(ledger: Ledger, batch: list[Line]) -> Decimal:
    seen = set()
    total = Decimal(0)
    for line in batch:
        if line.sku in seen:
            continue
        seen.add(line.sku)
        total += line.amount
    ledger.entries.append(total)
    return total


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(apply_tax(None))
'''

TYPESCRIPT = r"""import { Injectable } from '@angular/core';
import type { Order, Line } from './order';

/**
 * A line of an invoice, as the API returns it.
 * Amounts are in cents.
 */
export interface InvoiceLine {
  sku: string;
  amount: number;
  rate?: number;
}

export enum Currency {
  EUR = 'EUR',
  USD = 'USD',
}

export type Id = string | number;

export const DEFAULT_RATE = 0.2;

@Injectable({ providedIn: 'root' })
export class CartService<T extends { id: Id }> implements Store<T> {
  private readonly items = new Map<Id, T>();

  constructor(private readonly http: HttpClient, private log: Logger) {
    this.items.clear();
    this.log.debug('cart created');
    this.http.get('/api/cart').subscribe((cart) => {
      this.items.set(cart.id, cart);
    });
  }

  /** Adds an item, replacing one with the same id. */
  public async add(item: T, opts: { force?: boolean } = {}): Promise<void> {
    if (!opts.force && this.items.has(item.id)) {
      throw new Error(`duplicate ${item.id}`);
    }
    this.items.set(item.id, item);
    await this.http.post('/api/cart', item).toPromise();
    this.log.info('added', item.id);
  }

  get size(): number {
    return this.items.size;
  }
}

export const applyTax = (order: Order, rate: number = DEFAULT_RATE): number => {
  let total = 0;
  for (const line of order.lines) {
    total += Math.round(line.amount * (1 + rate));
  }
  if (total < 0) {
    throw new Error('negative total');
  }
  return total;
};

export function reconcileLedger(lines: Line[], strict = false): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of lines) {
    const previous = totals.get(line.sku) ?? 0;
    totals.set(line.sku, previous + line.amount);
  }
  if (strict) {
    totals.forEach((value, key) => {
      if (value < 0) throw new Error(key);
    });
  }
  return totals;
}
"""

JAVASCRIPT = r"""'use strict';
const express = require('express');
const { promisify } = require('util');
import { readFile } from 'fs/promises';

const PORT = process.env.PORT || 8080;

/**
 * Loads the config file.
 * @param {string} path
 */
async function loadConfig(path, { encoding = 'utf8' } = {}) {
  const raw = await readFile(path, encoding);
  const config = JSON.parse(raw);
  if (!config.routes) {
    config.routes = [];
  }
  config.loadedAt = Date.now();
  return config;
}

class Router extends EventEmitter {
  static instances = 0;

  constructor(app, prefix = '/') {
    super();
    this.app = app;
    this.prefix = prefix;
    Router.instances += 1;
    this.emit('created', prefix);
  }

  *routes() {
    for (const layer of this.app._router.stack) {
      if (layer.route) {
        yield layer.route.path;
      }
    }
  }
}

const app = express();
app.get('/health', async (req, res) => {
  const config = await loadConfig('./config.json');
  res.set('x-config', config.version);
  res.status(200);
  res.json({ ok: true, routes: config.routes.length });
});

module.exports = {
  loadConfig,
  start(port = PORT) {
    const server = app.listen(port);
    server.on('error', (err) => console.error(err));
    server.on('listening', () => console.log('up'));
    process.on('SIGTERM', () => server.close());
    return server;
  },
};
"""

GO = r"""// Package billing books invoices into ledgers.
package billing

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned when booking into a closed ledger.
var ErrClosed = errors.New("ledger closed")

const (
	MaxEntries = 10000
	DefaultCurrency = "EUR"
)

// Entry is one booking.
type Entry struct {
	ID     string
	Amount int64
	Memo   string
}

// Store persists ledgers.
type Store interface {
	Load(ctx context.Context, id string) (*Ledger, error)
	Save(ctx context.Context, l *Ledger) error
}

// Ledger is an append-only list of entries.
type Ledger struct {
	mu      sync.Mutex
	entries []Entry
	closed  bool
}

// Book appends an entry and returns its index.
func (l *Ledger) Book(ctx context.Context, e Entry) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if len(l.entries) >= MaxEntries {
		return 0, fmt.Errorf("ledger full: %d entries", len(l.entries))
	}
	l.entries = append(l.entries, e)
	return len(l.entries) - 1, nil
}

// Reconcile sums a batch, skipping duplicate IDs.
func Reconcile(ctx context.Context, batch []Entry) (total int64, err error) {
	seen := make(map[string]bool, len(batch))
	for _, e := range batch {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		total += e.Amount
	}
	return total, nil
}
"""

RUST = r"""//! Ledgers and the entries booked into them.
use std::collections::HashMap;
use std::fmt;

pub const MAX_ENTRIES: usize = 10_000;

/// One booking.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub amount: i64,
}

pub enum Error {
    Closed,
    Full(usize),
}

/// Where ledgers are kept.
pub trait Store {
    fn load(&self, id: &str) -> Result<Ledger, Error>;
    fn save(&mut self, ledger: &Ledger) -> Result<(), Error> {
        let _ = ledger;
        Ok(())
    }
}

pub struct Ledger {
    entries: Vec<Entry>,
    closed: bool,
}

impl Ledger {
    /// Creates an empty ledger.
    pub fn new() -> Self {
        Ledger { entries: Vec::new(), closed: false }
    }

    /// Books an entry; returns its index.
    pub fn book(&mut self, entry: Entry) -> Result<usize, Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(Error::Full(self.entries.len()));
        }
        self.entries.push(entry);
        Ok(self.entries.len() - 1)
    }

    pub fn reconcile<'a, I>(&self, batch: I) -> i64
    where
        I: IntoIterator<Item = &'a Entry>,
    {
        let mut seen = HashMap::new();
        let mut total = 0;
        for entry in batch {
            if seen.insert(entry.id.clone(), true).is_none() {
                total += entry.amount;
            }
        }
        total
    }
}

impl fmt::Display for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ledger(")?;
        for entry in &self.entries {
            write!(f, "{}={},", entry.id, entry.amount)?;
        }
        write!(f, ")")
    }
}
"""

JAVA = r"""package com.acme.billing;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Books invoices into ledgers.
 *
 * <p>Thread-safe.
 */
@Service
public class LedgerService extends BaseService implements Api {
    private static final int MAX_ENTRIES = 10_000;
    private final List<BigDecimal> entries = new ArrayList<>();

    @Autowired
    public LedgerService(Repository repository, Clock clock) {
        super(repository);
        this.clock = clock;
        this.entries.clear();
        log.debug("service created");
    }

    /** Books an amount; returns its position. */
    @Override
    @Transactional(readOnly = false)
    public synchronized int book(BigDecimal amount, String memo) throws LedgerClosedException {
        if (closed) {
            throw new LedgerClosedException(memo);
        }
        entries.add(amount);
        log.info("booked {} ({})", amount, memo);
        return entries.size() - 1;
    }

    public <T extends Entry> BigDecimal reconcile(List<T> batch, boolean strict) {
        BigDecimal total = BigDecimal.ZERO;
        for (T entry : batch) {
            total = total.add(entry.amount());
        }
        if (strict && total.signum() < 0) {
            throw new IllegalStateException("negative");
        }
        return total;
    }

    enum State { OPEN, CLOSED }

    interface Listener {
        void onBooked(BigDecimal amount);
    }
}
"""

C = r"""/*
 * ledger.c - an append-only ledger.
 * Copyright 2024 Acme.
 */
#include <stdio.h>
#include <stdlib.h>
#include "ledger.h"

#define MAX_ENTRIES 10000

typedef struct ledger {
    long *entries;
    size_t count;
    int closed;
} ledger_t;

static int grow(ledger_t *l, size_t want)
{
    long *next = realloc(l->entries, want * sizeof(long));
    if (next == NULL) {
        return -1;
    }
    l->entries = next;
    return 0;
}

/* Books an amount; returns its index or -1. */
int ledger_book(ledger_t *l, long amount, const char *memo) {
    if (l->closed || l->count >= MAX_ENTRIES) {
        fprintf(stderr, "cannot book %s\n", memo);
        return -1;
    }
    if (grow(l, l->count + 1) != 0) {
        return -1;
    }
    l->entries[l->count] = amount;
    return (int)l->count++;
}
"""

CPP = r"""#include <map>
#include <string>
#include <vector>

namespace acme {

template <typename T>
class Ledger : public Base {
 public:
  explicit Ledger(std::string owner) : owner_(std::move(owner)) {}
  virtual ~Ledger() = default;

  int book(const T& entry, bool strict = true) override {
    if (closed_) {
      throw std::runtime_error("closed");
    }
    entries_.push_back(entry);
    total_ += entry.amount;
    return static_cast<int>(entries_.size()) - 1;
  }

 private:
  std::string owner_;
  std::vector<T> entries_;
  bool closed_ = false;
};

long reconcile(const std::vector<Entry>& batch) {
  std::map<std::string, bool> seen;
  long total = 0;
  for (const auto& e : batch) {
    if (seen[e.id]) continue;
    seen[e.id] = true;
    total += e.amount;
  }
  return total;
}

}  // namespace acme
"""
SOURCES = {
    "python": PYTHON,
    "typescript": TYPESCRIPT,
    "javascript": JAVASCRIPT,
    "go": GO,
    "rust": RUST,
    "java": JAVA,
    "c": C,
    "cpp": CPP,
}

# Lines each outline must keep exactly as written: signatures (decorators and annotations included), headers,
# imports and first docstring lines.
KEPT = {
    "python": [
        '"""Billing: invoices, taxes and the ledger they are booked into.',
        "from decimal import ROUND_HALF_EVEN, Decimal",
        'TAX_RATES = {"EUR": Decimal("0.20"), "USD": Decimal("0.08")}',
        "@dataclass(frozen=True)",
        "class Line:",
        '    rate: Decimal = Decimal("0")',
        '    """An append-only list of entries.',
        "    def __init__(self, owner: str) -> None:",
        "    @property",
        '    async def book(self, amount: Decimal, *, memo: str = "") -> int:',
        '        """Book an amount and return its position.',
        "    @staticmethod",
        "    def merge(",
        '        first: "Ledger",',
        '    ) -> "Ledger":',
        "def apply_tax(order, *, currency='EUR', strict=True):",
        '    """Apply the tax table to an order; rounds half-even per line."""',
        "def reconcile(ledger: Ledger, batch: list[Line]) -> Decimal:",
        'if __name__ == "__main__":',
    ],
    "typescript": [
        "import type { Order, Line } from './order';",
        " * A line of an invoice, as the API returns it.",
        "export interface InvoiceLine {",
        "  rate?: number;",
        "  USD = 'USD',",
        "@Injectable({ providedIn: 'root' })",
        "export class CartService<T extends { id: Id }> implements Store<T> {",
        "  constructor(private readonly http: HttpClient, private log: Logger) {",
        "  public async add(item: T, opts: { force?: boolean } = {}): Promise<void> {",
        "export const applyTax = (order: Order, rate: number = DEFAULT_RATE): number => {",
        "export function reconcileLedger(lines: Line[], strict = false): Map<string, number> {",
    ],
    "javascript": [
        "const { promisify } = require('util');",
        "async function loadConfig(path, { encoding = 'utf8' } = {}) {",
        "class Router extends EventEmitter {",
        "  constructor(app, prefix = '/') {",
        "  *routes() {",
        "app.get('/health', async (req, res) => {",
        "  start(port = PORT) {",
    ],
    "go": [
        "package billing",
        '\t"sync"',
        "\tMaxEntries = 10000",
        "type Store interface {",
        "\tSave(ctx context.Context, l *Ledger) error",
        "\tentries []Entry",
        "func (l *Ledger) Book(ctx context.Context, e Entry) (int, error) {",
        "func Reconcile(ctx context.Context, batch []Entry) (total int64, err error) {",
    ],
    "rust": [
        "use std::collections::HashMap;",
        "#[derive(Debug, Clone, PartialEq)]",
        "pub struct Entry {",
        "    fn load(&self, id: &str) -> Result<Ledger, Error>;",
        "impl Ledger {",
        "    pub fn book(&mut self, entry: Entry) -> Result<usize, Error> {",
        "    pub fn reconcile<'a, I>(&self, batch: I) -> i64",
        "        I: IntoIterator<Item = &'a Entry>,",
        "impl fmt::Display for Ledger {",
        "    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {",
    ],
    "java": [
        "package com.acme.billing;",
        "import java.util.List;",
        "public class LedgerService extends BaseService implements Api {",
        "    @Autowired",
        "    public LedgerService(Repository repository, Clock clock) {",
        "    @Transactional(readOnly = false)",
        "    public synchronized int book(BigDecimal amount, String memo) throws LedgerClosedException {",
        "    public <T extends Entry> BigDecimal reconcile(List<T> batch, boolean strict) {",
        "    enum State { OPEN, CLOSED }",
        "        void onBooked(BigDecimal amount);",
    ],
    "c": [
        '#include "ledger.h"',
        "#define MAX_ENTRIES 10000",
        "typedef struct ledger {",
        "} ledger_t;",
        "static int grow(ledger_t *l, size_t want)",
        "int ledger_book(ledger_t *l, long amount, const char *memo) {",
    ],
    "cpp": [
        "#include <vector>",
        "namespace acme {",
        "template <typename T>",
        "class Ledger : public Base {",
        "  int book(const T& entry, bool strict = true) override {",
        "  std::vector<T> entries_;",
        "long reconcile(const std::vector<Entry>& batch) {",
        "}  // namespace acme",
    ],
}


def run(source: str, language: str = "python", query: str = "", **params: object):
    return compress(source, {**PARAMS, **params}, Context(query=query, kind=f"code:{language}", ref=REF))


def read_back(source: str, output: str) -> list[str]:
    """Checks that the output is the source with runs of lines replaced by markers naming their length; returns the
    markers' indentations and comment starts."""
    lines, markers, row = source.split("\n"), [], 0
    for line in output.split("\n"):
        marker = MARKER.fullmatch(line)
        if marker:
            markers.append(marker[1] + marker[2])
            row += int(marker[3].replace(",", ""))
        else:
            assert line == lines[row], f"line {row + 1} differs"
            row += 1
    assert row == len(lines)
    return markers


@pytest.mark.parametrize("language", SOURCES)
def test_outline_keeps_signatures_and_reads_back(language: str) -> None:
    source = SOURCES[language]
    result = run(source, language, max_body_lines=2)
    assert result is not None
    assert read_back(source, result.text)
    output_lines = result.text.split("\n")
    for line in KEPT[language]:
        assert line in output_lines
    assert result.summary.endswith(f"of {source.count(chr(10))} lines")


@pytest.mark.parametrize("language", SOURCES)
def test_language_is_guessed_when_the_kind_does_not_say(language: str) -> None:
    source = SOURCES[language]
    named = run(source, language, max_body_lines=1)
    guessed = compress(source, {**PARAMS, "max_body_lines": 1}, Context(kind="code", ref=REF))
    assert guessed == named


def test_body_cut_to_max_body_lines_with_one_marker_at_body_indentation() -> None:
    text = run(PYTHON, max_body_lines=2).text
    expected = """def reconcile(ledger: Ledger, batch: list[Line]) -> Decimal:
    seen = set()
    total = Decimal(0)
    # [headroom: 7 lines omitted; retrieve with ref=code0001]"""
    assert expected in text


def test_docstring_first_line_then_body() -> None:
    # the rest of the docstring must be longer than its marker to be folded: lengthen it by a few words
    source = PYTHON.replace("when the ledger is closed.", "when the ledger is closed or the memo is taken.")
    text = run(source, max_body_lines=1).text
    expected = '''    async def book(self, amount: Decimal, *, memo: str = "") -> int:
        """Book an amount and return its position.
        # [headroom: 3 lines omitted; retrieve with ref=code0001]
        if self.closed:
        # [headroom: 5 lines omitted; retrieve with ref=code0001]'''
    assert expected in text


def test_braced_bodies_keep_their_closing_line_and_use_line_comments() -> None:
    text = run(GO, "go", max_body_lines=2).text
    expected = """func (l *Ledger) Book(ctx context.Context, e Entry) (int, error) {
\tl.mu.Lock()
\tdefer l.mu.Unlock()
\t// [headroom: 8 lines omitted; retrieve with ref=code0001]
}"""
    assert expected in text


def test_short_bodies_stay_whole() -> None:
    text = run(PYTHON, max_body_lines=3).text
    assert "    @property\n    def balance(self) -> Decimal:" in text
    # __init__ has 5 body lines: 3 kept and 2 folded would not pay, one more line than max_body_lines stays whole
    short = "def f(x):\n    a = x\n    b = a\n    c = b\n    return c\n"
    assert run(short * 3, max_body_lines=3) is None


def test_function_named_in_the_query_keeps_its_whole_body() -> None:
    text = run(PYTHON, query="Why does `reconcile` double count?", max_body_lines=1).text
    body = PYTHON[PYTHON.index("def reconcile(") : PYTHON.index("\n\n\nif __name__")]
    assert body in text
    assert "    rate = TAX_RATES[currency]\n    # [headroom: 7 lines omitted" in text


def test_method_named_with_its_class_keeps_its_whole_body() -> None:
    text = run(TYPESCRIPT, "typescript", query="Is CartService.add idempotent?", max_body_lines=0).text
    assert "    this.log.info('added', item.id);" in text
    assert "    this.log.debug('cart created');" not in text


def test_lines_with_a_rare_query_term_are_kept_inside_bodies() -> None:
    text = run(GO, "go", query="when is the ledger full?", max_body_lines=0).text
    assert '\t\treturn 0, fmt.Errorf("ledger full: %d entries", len(l.entries))' in text
    assert "\tl.mu.Lock()" not in text


def test_docstrings_off_folds_them_like_body_lines() -> None:
    text = run(PYTHON, docstrings=False, max_body_lines=0).text
    assert "rounds half-even" not in text
    assert "def apply_tax(order, *, currency='EUR', strict=True):" in text
    assert "Billing: invoices" not in text
    read_back(PYTHON, text)


def test_doc_comments_keep_their_first_line_with_text() -> None:
    first = "    /**\n     * Books an amount; returns its position.\n"
    javadoc = first + "     * More.\n" * 5 + "     */\n"
    source = JAVA.replace("    /** Books an amount; returns its position. */\n", javadoc)
    text = run(source, "java").text
    assert first + "     // [headroom: 6 lines omitted; retrieve with ref=code0001]\n    @Override" in text


def test_deterministic() -> None:
    first = run(TYPESCRIPT, "typescript", query="applyTax rounding")
    assert all(run(TYPESCRIPT, "typescript", query="applyTax rounding") == first for _ in range(3))


@pytest.mark.parametrize(
    "source",
    [
        "def broken(:\n    ))) ]] {{\n" * 40,
        "This is a paragraph of prose about pools.\nIt has no code in it at all, only words.\n" * 30,
        "",
    ],
    ids=["broken", "prose", "empty"],
)
def test_not_code_gives_none(source: str) -> None:
    assert run(source) is None
    assert compress(source, PARAMS, Context(kind="code", ref=REF)) is None


def test_unsupported_language_that_does_not_look_like_any_gives_none() -> None:
    ruby = "class Ledger\n  def book(amount)\n    @entries << amount\n    @version += 1\n    log(amount)\n  end\nend\n"
    assert compress(ruby * 20, PARAMS, Context(kind="code:ruby", ref=REF)) is None


def test_crlf_lines_stay_byte_identical() -> None:
    source = PYTHON.replace("\n", "\r\n")
    result = run(source, max_body_lines=1)
    read_back(source, result.text)
    assert "def apply_tax(order, *, currency='EUR', strict=True):\r" in result.text.split("\n")


@pytest.mark.parametrize("gutter", ["{:6d}\t", "{}→", "{:05d}| "])
def test_line_numbered_listings_are_outlined_like_the_file(gutter: str) -> None:
    numbered = "\n".join(gutter.format(row + 1) + line for row, line in enumerate(RUST.split("\n")))
    result = run(numbered, "rust")
    read_back(numbered, result.text)
    plain = [re.sub(r"^ *\d+(\t|→|\| )", "", line) for line in result.text.split("\n")]
    assert plain == run(RUST, "rust").text.split("\n")


# --- generated modules -------------------------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z_]{2,10}", fullmatch=True).filter(lambda name: name not in {"def", "for", "pass"})
statements = st.sampled_from(
    ["x = 1", "total += value", "log.debug('done %s', x)", "if x:", "    x -= 1", "for item in items:", "    pass"]
)


@st.composite
def functions(draw: st.DrawFn, indent: str) -> list[str]:
    name = draw(names)
    lines = [f"{indent}@cache"] if draw(st.booleans()) else []
    lines.append(f"{indent}{draw(st.sampled_from(['def', 'async def']))} {name}(self, value, *, flag=True):")
    if draw(st.booleans()):
        lines.append(f'{indent}    """{name.capitalize()} the value."""')
    body = draw(st.lists(statements, min_size=1, max_size=12))
    lines += [f"{indent}    {statement}" for statement in body]
    if body[-1].endswith(":"):
        lines.append(f"{indent}        pass")
    return [*lines, ""]


@st.composite
def modules(draw: st.DrawFn) -> str:
    lines = ['"""A generated module."""', "import os", "from x import y", "", "LIMIT = 10", ""]
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            lines += [f"class {draw(names).capitalize()}:", "    size: int = 0", ""]
            for _ in range(draw(st.integers(1, 3))):
                lines += draw(functions("    "))
        else:
            lines += draw(functions(""))
    return "\n".join(lines) + "\n"


@given(modules(), st.integers(0, 4), st.booleans())
def test_generated_modules_keep_every_signature(source: str, max_body_lines: int, crlf: bool) -> None:
    if crlf:
        source = source.replace("\n", "\r\n")
    result = run(source, max_body_lines=max_body_lines)
    if result is None:
        return
    markers = read_back(source, result.text)
    assert all(marker.endswith("#") for marker in markers)
    output_lines = result.text.split("\n")
    for line in source.split("\n"):
        if re.match(r"\s*(@|def |async def |class |import |from )", line):
            assert line in output_lines
    assert run(source, max_body_lines=max_body_lines) == result


@given(
    st.sampled_from(sorted(SOURCES)),
    st.lists(st.tuples(st.sampled_from(["drop", "repeat", "cut"]), st.floats(0, 1), st.floats(0, 1)), max_size=8),
    st.sampled_from(["code:{}", "code", "code:ruby"]),
    st.integers(0, 4),
)
def test_mangled_sources_give_none_or_a_faithful_outline(language: str, edits: list, kind: str, lines: int) -> None:
    rows = SOURCES[language].split("\n")
    for edit, where, length in edits:
        row = int(where * (len(rows) - 1))
        if edit == "drop":
            del rows[row]
        elif edit == "repeat":
            rows.insert(row, rows[int(length * (len(rows) - 1))])
        else:
            rows[row] = rows[row][: int(length * len(rows[row]))]
    source = "\n".join(rows)
    result = compress(source, {**PARAMS, "max_body_lines": lines}, Context(kind=kind.format(language), ref=REF))
    if result is not None:
        read_back(source, result.text)
