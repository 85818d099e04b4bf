//! A seeded generator of realistic document texts, one family of templates
//! per document type, for training the default model.
//!
//! Each type has several layouts and wordings filled with random but
//! plausible values (names, addresses, amounts that add up, dates, masked
//! account numbers). A share of every type is passed through an OCR-noise
//! model (character confusions, broken words, lost lines, stray marks),
//! because most real uploads are scans and phone photos. Output is for
//! training only: evaluation must hold out whole templates.

use crate::rng::Rng;

/// Bumped whenever the generator's output changes for a given seed.
pub const GENERATOR_VERSION: &str = "synth-6";

/// The labels with hand-written generators: the original service's seven,
/// which the default model knows, and till receipts, which the taxonomy's
/// template cannot write.
pub const LABELS: &[&str] = &[
    "invoice",
    "bank_statement",
    "financial_report",
    "drivers_licence",
    "contract",
    "email",
    "form",
    "receipt",
];

/// One generated document.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub label: String,
    /// `label/layout`, so that evaluation can hold out whole templates.
    pub template: String,
    /// The container the text would arrive in: `pdf`, `image` (scan or
    /// photo, OCR-noisy), `csv`, `docx`, `text` or `email`.
    pub format: &'static str,
    pub text: String,
}

/// Templates of a label above that are documents of a finer type, when
/// the taxonomy has it: (template, finer label). In the eight-label
/// taxonomy a non-disclosure agreement is a contract; in one with `nda`,
/// training it as a contract teaches the model that every NDA is one.
pub const FINER_TEMPLATES: &[(&str, &str)] = &[("contract/nda", "nda")];

/// `per_type` documents of every label, deterministic for `seed`.
pub fn generate(per_type: usize, seed: u64) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    let mut samples = Vec::with_capacity(per_type * LABELS.len());
    for (index, &label) in LABELS.iter().enumerate() {
        let mut label_rng = rng.fork(index as u64);
        for _ in 0..per_type {
            let mut doc_rng = label_rng.fork(0);
            let (layout, text) = document(label, &mut doc_rng);
            let (text, scanned) = degrade(label, text, &mut doc_rng);
            let format = container(label, layout, scanned, &mut doc_rng);
            samples.push(Sample {
                label: label.to_owned(),
                template: format!("{label}/{layout}"),
                format,
                text,
            });
        }
    }
    samples
}

/// The format a document of this type and layout would be sent as.
fn container(label: &str, layout: &str, scanned: bool, rng: &mut Rng) -> &'static str {
    if scanned {
        return "image";
    }
    match (label, layout) {
        ("bank_statement", "export") => "csv",
        ("email", _) => rng.pick_str(&["email", "text"]),
        ("form", "titles") => "text",
        ("drivers_licence", _) => "pdf",
        // Till receipts arrive as photos, shop e-mails and PDF e-receipts.
        ("receipt", _) => rng.pick_str(&["image", "image", "email", "pdf", "text"]),
        _ => rng.pick_str(&["pdf", "pdf", "pdf", "docx", "text"]),
    }
}

fn document(label: &str, rng: &mut Rng) -> (&'static str, String) {
    let mut f = Faker { rng };
    match label {
        "invoice" => invoice(&mut f),
        "bank_statement" => bank_statement(&mut f),
        "financial_report" => financial_report(&mut f),
        "drivers_licence" => drivers_licence(&mut f),
        "contract" => contract(&mut f),
        "email" => email(&mut f),
        "receipt" => till_receipt(&mut f),
        _ => form(&mut f),
    }
}

// ---------------------------------------------------------------- values

const FIRST: &[&str] = &[
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Emily", "Daniel", "Sarah", "Thomas", "Laura", "Richard", "Olivia", "Carlos", "Sofia", "Ahmed",
    "Mei", "Anna", "Lukas", "Chloé", "Pierre", "Lucía", "Javier", "Priya", "Kenji", "Grace",
    "Theresa",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Müller",
    "Schmidt",
    "Dubois",
    "Moreau",
    "Fernández",
    "López",
    "Patel",
    "Nguyen",
    "Kowalski",
    "Parker",
    "Potter",
    "Hubbard",
];
const COMPANY_WORDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Blue Ridge",
    "Summit",
    "Pioneer",
    "Evergreen",
    "Silverline",
    "Redwood",
    "Harbor",
    "Keystone",
    "Vertex",
    "Apex",
    "Timmerman",
    "Brightside",
    "Oakmont",
    "Lakeside",
    "Granite",
];
const COMPANY_SUFFIX: &[&str] = &[
    "Inc.",
    "LLC",
    "Ltd",
    "Corp",
    "GmbH",
    "S.A.",
    "PLC",
    "Industries",
    "Group",
    "& Co.",
    "Partners",
    "Solutions",
    "Services",
];
const STREETS: &[&str] = &[
    "Main Street",
    "Oak Avenue",
    "Maple Drive",
    "Park Lane",
    "High Street",
    "Elm Street",
    "Washington Blvd",
    "Lake Road",
    "Sunset Boulevard",
    "Church Road",
    "Mill Lane",
    "Bahnhofstraße",
    "Rue de la Paix",
    "Calle Mayor",
];
const CITIES: &[&str] = &[
    "Springfield, IL 62704",
    "Austin, TX 78701",
    "Denver, CO 80202",
    "Portland, OR 97205",
    "Columbus, OH 43215",
    "London SW1A 1AA",
    "Manchester M1 1AE",
    "Toronto, ON M5H 2N2",
    "Sacramento, CA 95814",
    "Honolulu, HI 96820",
    "Berlin 10115",
    "Paris 75001",
    "Madrid 28013",
];
const BANKS: &[&str] = &[
    "First National Bank",
    "Bank 1 of Testing",
    "Chase",
    "Wells Fargo",
    "Citibank",
    "HSBC",
    "Barclays",
    "Bank of America",
    "Lloyds Bank",
    "TD Bank",
    "Deutsche Bank",
    "Santander",
    "Capital One",
    "US Bank",
    "PNC Bank",
    "Credit Union of Ohio",
];
/// Common English words for free text (descriptions, reasons): used across
/// types so that the model learns they say nothing about the type.
const LOREM: &[&str] = &[
    "about",
    "above",
    "across",
    "action",
    "activity",
    "actually",
    "address",
    "after",
    "again",
    "against",
    "agency",
    "agree",
    "air",
    "allow",
    "already",
    "also",
    "always",
    "amount",
    "analysis",
    "animal",
    "answer",
    "approach",
    "area",
    "arm",
    "art",
    "article",
    "artist",
    "attack",
    "attention",
    "audience",
    "author",
    "available",
    "away",
    "baby",
    "bag",
    "ball",
    "bank",
    "base",
    "beat",
    "beautiful",
    "because",
    "become",
    "before",
    "behind",
    "believe",
    "best",
    "better",
    "between",
    "beyond",
    "bill",
    "bird",
    "blood",
    "blue",
    "board",
    "body",
    "book",
    "born",
    "both",
    "box",
    "boy",
    "brother",
    "budget",
    "build",
    "business",
    "call",
    "camera",
    "campaign",
    "cancer",
    "capital",
    "car",
    "card",
    "care",
    "career",
    "carry",
    "case",
    "catch",
    "cause",
    "center",
    "century",
    "chance",
    "change",
    "charge",
    "check",
    "child",
    "church",
    "citizen",
    "city",
    "civil",
    "claim",
    "class",
    "clear",
    "coach",
    "cold",
    "collection",
    "come",
    "commercial",
    "common",
    "community",
    "company",
    "compare",
    "computer",
    "concern",
    "condition",
    "consider",
    "consumer",
    "contain",
    "continue",
    "control",
    "cost",
    "could",
    "country",
    "couple",
    "course",
    "court",
    "cover",
    "create",
    "crime",
    "cup",
    "customer",
    "cut",
    "daughter",
    "dead",
    "deal",
    "debate",
    "decade",
    "decide",
    "deep",
    "defense",
    "describe",
    "design",
    "detail",
    "develop",
    "device",
    "die",
    "dinner",
    "direction",
    "discuss",
    "disease",
    "doctor",
    "dog",
    "draw",
    "dream",
    "drive",
    "drop",
    "drug",
    "during",
    "each",
    "east",
    "easy",
    "eat",
    "edge",
    "effect",
    "effort",
    "eight",
    "either",
    "election",
    "else",
    "employee",
    "end",
    "enjoy",
    "enough",
    "enter",
    "environment",
    "especially",
    "establish",
    "even",
    "event",
    "every",
    "evidence",
    "exactly",
    "example",
    "executive",
    "exist",
    "experience",
    "expert",
    "explain",
    "eye",
    "face",
    "factor",
    "fail",
    "fall",
    "family",
    "fast",
    "father",
    "fear",
    "feel",
    "few",
    "fight",
    "figure",
    "fill",
    "final",
    "financial",
    "find",
    "fine",
    "finger",
    "finish",
    "fire",
    "firm",
    "first",
    "five",
    "floor",
    "fly",
    "focus",
    "follow",
    "foot",
    "force",
    "foreign",
    "forget",
    "form",
    "former",
    "forward",
    "free",
    "friend",
    "front",
    "full",
    "fund",
    "future",
    "game",
    "general",
    "generation",
    "get",
    "glass",
    "goal",
    "good",
    "government",
    "great",
    "green",
    "ground",
    "group",
    "grow",
    "growth",
    "guess",
    "gun",
    "happen",
    "happy",
    "hard",
    "have",
    "head",
    "hear",
    "heart",
    "heat",
    "heavy",
    "help",
    "herself",
    "high",
    "himself",
    "hit",
    "hold",
    "home",
    "hope",
    "hot",
    "hotel",
    "hour",
    "house",
    "huge",
    "human",
    "hundred",
    "husband",
    "image",
    "impact",
    "improve",
    "include",
    "increase",
    "industry",
    "inside",
    "instead",
    "interest",
    "interview",
    "into",
    "investment",
    "issue",
    "itself",
    "job",
    "join",
    "just",
    "keep",
    "key",
    "kid",
    "kind",
    "kitchen",
    "know",
    "knowledge",
    "land",
    "language",
    "large",
    "last",
    "late",
    "laugh",
    "law",
    "lawyer",
    "learn",
    "least",
    "leave",
    "left",
    "leg",
    "legal",
    "less",
    "letter",
    "level",
    "lie",
    "life",
    "light",
    "likely",
    "line",
    "little",
    "live",
    "loss",
    "lot",
    "love",
    "low",
    "machine",
    "magazine",
    "main",
    "major",
    "manage",
    "manager",
    "many",
    "material",
    "matter",
    "may",
    "maybe",
    "measure",
    "media",
    "medical",
    "member",
    "memory",
    "mention",
    "message",
    "middle",
    "might",
    "military",
    "million",
    "mind",
    "minute",
    "mission",
    "model",
    "modern",
    "moment",
    "money",
    "month",
    "more",
    "morning",
    "most",
    "mother",
    "move",
    "much",
    "must",
    "myself",
    "name",
    "nation",
    "near",
    "need",
    "never",
    "new",
    "news",
    "next",
    "nice",
    "none",
    "north",
    "nothing",
    "notice",
    "number",
    "occur",
    "offer",
    "office",
    "often",
    "oil",
    "old",
    "once",
    "only",
    "open",
    "operation",
    "option",
    "order",
    "organization",
    "others",
    "out",
    "outside",
    "over",
    "owner",
    "page",
    "pain",
    "painting",
    "parent",
    "part",
    "partner",
    "party",
    "pass",
    "past",
    "patient",
    "pattern",
    "pay",
    "peace",
    "people",
    "perform",
    "perhaps",
    "period",
    "person",
    "personal",
    "phone",
    "physical",
    "pick",
    "picture",
    "piece",
    "place",
    "plant",
    "play",
    "point",
    "policy",
    "political",
    "poor",
    "popular",
    "positive",
    "possible",
    "practice",
    "prepare",
    "present",
    "president",
    "pressure",
    "pretty",
    "prevent",
    "price",
    "private",
    "probably",
    "problem",
    "process",
    "produce",
    "product",
    "professional",
    "program",
    "protect",
    "prove",
    "provide",
    "pull",
    "purpose",
    "push",
    "quality",
    "question",
    "quite",
    "radio",
    "raise",
    "reach",
    "read",
    "ready",
    "real",
    "realize",
    "receive",
    "recent",
    "recognize",
    "record",
    "reduce",
    "reflect",
    "region",
    "remain",
    "remember",
    "remove",
    "report",
    "represent",
    "require",
    "research",
    "respond",
    "rest",
    "result",
    "return",
    "reveal",
    "rich",
    "right",
    "rise",
    "risk",
    "road",
    "role",
    "room",
    "rule",
    "run",
    "safe",
    "same",
    "save",
    "say",
    "scene",
    "school",
    "science",
    "score",
    "second",
    "section",
    "security",
    "see",
    "seek",
    "seem",
    "sell",
    "send",
    "senior",
    "sense",
    "serious",
    "serve",
    "service",
    "set",
    "seven",
    "several",
    "shake",
    "share",
    "shoot",
    "short",
    "shot",
    "should",
    "shoulder",
    "show",
    "similar",
    "since",
    "sing",
    "sit",
    "size",
    "skin",
    "small",
    "so",
    "soldier",
    "some",
    "son",
    "song",
    "soon",
    "sort",
    "south",
    "space",
    "speak",
    "specific",
    "spend",
    "sport",
    "spring",
    "staff",
    "standard",
    "start",
    "state",
    "statement",
    "still",
    "stop",
    "store",
    "strategy",
    "structure",
    "student",
    "stuff",
    "style",
    "subject",
    "success",
    "suddenly",
    "suffer",
    "suggest",
    "support",
    "surface",
    "table",
    "take",
    "talk",
    "tax",
    "team",
    "technology",
    "tell",
    "tend",
    "term",
    "test",
    "than",
    "thank",
    "their",
    "then",
    "there",
    "these",
    "they",
    "think",
    "those",
    "though",
    "threat",
    "three",
    "through",
    "throughout",
];
/// English month names, January first.
pub const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const STATES: &[&str] = &[
    "CALIFORNIA",
    "TEXAS",
    "NEW YORK",
    "FLORIDA",
    "HAWAII",
    "OHIO",
    "ILLINOIS",
    "WASHINGTON",
    "PENNSYLVANIA",
    "GEORGIA",
    "ANY STATE",
    "ARIZONA",
    "MICHIGAN",
    "COLORADO",
    "OREGON",
];

/// Random but plausible values; shared with [`crate::compose`].
pub(crate) struct Faker<'a> {
    pub(crate) rng: &'a mut Rng,
}

impl Faker<'_> {
    pub(crate) fn pick<'b>(&mut self, items: &[&'b str]) -> &'b str {
        self.rng.pick_str(items)
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.chance(p)
    }
    pub(crate) fn int(&mut self, low: i64, high: i64) -> i64 {
        self.rng.range(low, high)
    }
    pub(crate) fn person(&mut self) -> String {
        format!("{} {}", self.pick(FIRST), self.pick(LAST))
    }
    pub(crate) fn company(&mut self) -> String {
        if self.chance(0.2) {
            format!(
                "{}, {} and {}",
                self.pick(LAST),
                self.pick(LAST),
                self.pick(LAST)
            )
        } else {
            format!("{} {}", self.pick(COMPANY_WORDS), self.pick(COMPANY_SUFFIX))
        }
    }
    pub(crate) fn street(&mut self) -> String {
        format!("{} {}", self.int(1, 9999), self.pick(STREETS))
    }
    pub(crate) fn city(&mut self) -> String {
        self.pick(CITIES).to_owned()
    }
    pub(crate) fn phone(&mut self) -> String {
        match self.int(0, 2) {
            0 => format!(
                "({}) {}-{:04}",
                self.int(200, 999),
                self.int(200, 999),
                self.int(0, 9999)
            ),
            1 => format!(
                "+1 {}-{}-{:04}",
                self.int(200, 999),
                self.int(200, 999),
                self.int(0, 9999)
            ),
            _ => format!("+44 20 {} {:04}", self.int(1000, 9999), self.int(0, 9999)),
        }
    }
    /// A random amount between `low` and `high` cents, formatted.
    pub(crate) fn amount(&mut self, low: i64, high: i64) -> String {
        let cents = self.int(low, high);
        self.money(cents)
    }
    pub(crate) fn email_of(name: &str, domain: &str) -> String {
        let local: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '.' })
            .collect();
        format!("{local}@{domain}")
    }
    pub(crate) fn domain(&mut self) -> String {
        let word: String = self.pick(COMPANY_WORDS).to_lowercase().replace(' ', "");
        format!(
            "{word}.{}",
            self.pick(&["com", "net", "co.uk", "de", "io", "org"])
        )
    }
    /// A date in one of the common formats.
    pub(crate) fn date(&mut self) -> String {
        let (y, m, d) = (self.int(2019, 2026), self.int(1, 12), self.int(1, 28));
        match self.int(0, 4) {
            0 => format!("{y}-{m:02}-{d:02}"),
            1 => format!("{m:02}/{d:02}/{y}"),
            2 => format!("{d:02}/{m:02}/{y}"),
            3 => format!("{} {d}, {y}", MONTHS[(m - 1) as usize]),
            _ => format!("{d} {} {y}", MONTHS[(m - 1) as usize]),
        }
    }
    pub(crate) fn money(&mut self, cents: i64) -> String {
        let symbol = self.pick(&["$", "$", "$", "€", "£", ""]);
        format!("{symbol}{}", format_cents(cents))
    }
    pub(crate) fn words(&mut self, low: i64, high: i64) -> String {
        let n = self.int(low, high);
        let mut words: Vec<&str> = (0..n).map(|_| self.pick(LOREM)).collect();
        if let Some(first) = words.first_mut() {
            let capitalised = capitalise(first);
            return std::iter::once(capitalised)
                .chain(words.drain(1..).map(str::to_owned))
                .collect::<Vec<_>>()
                .join(" ");
        }
        String::new()
    }
    /// A transaction's free-text description (payee, reference), made of
    /// invented words. Real exports carry merchant names and payment
    /// references no training set can list; invented words (unique enough
    /// that no one of them becomes evidence) teach the model to recognise
    /// a statement by its structure, not by whichever English words filled
    /// the descriptions, which made ordinary prose look like a statement.
    pub(crate) fn free_text_reference(&mut self) -> String {
        let n = self.int(1, 5);
        let words: Vec<String> = (0..n).map(|_| self.invented_word()).collect();
        let text = words.join(" ");
        match self.int(0, 3) {
            0 => text.to_uppercase(),
            1 => format!("{text} {}", self.int(100, 99_999)),
            _ => capitalise(&text),
        }
    }
    /// A pronounceable word that exists in no language in particular.
    pub(crate) fn invented_word(&mut self) -> String {
        const ONSETS: &[&str] = &[
            "b", "br", "c", "d", "dr", "f", "g", "gl", "h", "j", "k", "l", "m", "n", "p", "pl",
            "qu", "r", "s", "st", "t", "tr", "v", "w", "z", "x", "sk", "th", "ch", "y",
        ];
        const NUCLEI: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ou", "y", "ei", "oo"];
        const CODAS: &[&str] = &["", "", "n", "r", "s", "t", "l", "m", "x", "nd", "rk", "st"];
        let syllables = self.int(1, 4);
        let mut word = String::new();
        for _ in 0..syllables {
            word.push_str(self.pick(ONSETS));
            word.push_str(self.pick(NUCLEI));
            word.push_str(self.pick(CODAS));
        }
        word
    }
    pub(crate) fn bank(&mut self) -> String {
        self.pick(BANKS).to_owned()
    }
    pub(crate) fn masked_account(&mut self) -> String {
        match self.int(0, 2) {
            0 => format!("XXXX-XXXX-XXXX-{:04}", self.int(0, 9999)),
            1 => format!("****{:04}", self.int(0, 9999)),
            _ => format!("{:08}", self.int(10_000_000, 99_999_999)),
        }
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// 123456 → "1,234.56" (negative with a leading minus).
pub(crate) fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", cents % 100)
}

// ---------------------------------------------------------------- types

fn invoice(f: &mut Faker) -> (&'static str, String) {
    let layout = f.int(0, 4);
    let vendor = f.company();
    let customer = if f.chance(0.5) {
        f.company()
    } else {
        f.person()
    };
    let number = format!(
        "{}{}",
        f.pick(&["INV-", "", "#", "F", "2024-"]),
        f.int(100, 999_999)
    );
    let items = [
        "Consulting services",
        "Website design",
        "Magazine Design",
        "Brochure Design",
        "Hosting (12 months)",
        "Office chairs",
        "Printer toner",
        "Maintenance visit",
        "Software licence",
        "Freight charges",
        "Legal advice",
        "Cleaning services",
        "Catering",
        "Training workshop",
        "Letterhead Design",
    ];
    let mut lines = Vec::new();
    let mut subtotal = 0;
    for _ in 0..f.int(1, 7) {
        let quantity = f.int(1, 20);
        let unit = f.int(500, 150_000);
        subtotal += quantity * unit;
        lines.push(format!(
            "{}  {}  {}  {}",
            f.pick(&items),
            quantity,
            format_cents(unit),
            format_cents(quantity * unit)
        ));
    }
    let rate = *f.rng.pick(&[0, 5, 7, 10, 19, 20]);
    let tax = subtotal * rate / 100;
    let total = subtotal + tax;
    let mut out = Vec::new();
    match layout {
        0 => {
            out.push(
                f.pick(&["INVOICE", "Invoice", "TAX INVOICE", "Sales Invoice"])
                    .to_owned(),
            );
            out.push(vendor.clone());
            out.push(f.street());
            out.push(f.city());
            out.push(format!("Phone: {}", f.phone()));
            out.push(format!("Invoice Number: {number}"));
            out.push(format!("Invoice Date: {}", f.date()));
            out.push(format!("Due Date: {}", f.date()));
            out.push("Bill To:".to_owned());
            out.push(customer);
            out.push(f.street());
            out.push("Description  Qty  Unit Price  Amount".to_owned());
            out.extend(lines);
            out.push(format!("Subtotal {}", f.money(subtotal)));
            out.push(format!("Tax ({rate}%) {}", f.money(tax)));
            out.push(format!("Total Due {}", f.money(total)));
            out.push(format!(
                "Payment terms: Net {}",
                f.pick(&["15", "30", "45", "60"])
            ));
        }
        1 => {
            out.push(vendor.clone());
            out.push(format!("{} | {}", f.street(), f.city()));
            out.push(f.pick(&["INVOICE", "BILL", "Invoice"]).to_owned());
            out.push(format!("Invoice #: {number}    Date: {}", f.date()));
            out.push(format!("Invoice to: {customer}"));
            out.push("ITEM DESCRIPTION  PRICE".to_owned());
            out.extend(lines);
            out.push(format!("SUBTOTAL: {}", f.money(subtotal)));
            out.push(format!("TOTAL: {}", f.money(total)));
            out.push("SEND PAYMENT TO".to_owned());
            out.push(format!(
                "Bank No: {}  Account: {}",
                f.int(1000, 9999),
                f.masked_account()
            ));
            out.push("Thank you for your business!".to_owned());
        }
        2 => {
            // A blank template, as companies keep them (and as samples show).
            out.push("INVOICE".to_owned());
            out.push("Company Name  Customer Company Name".to_owned());
            out.push("Address  Contact Name".to_owned());
            out.push("Phone  Address".to_owned());
            out.push("Email  Phone".to_owned());
            out.push("Website  Email".to_owned());
            out.push("Invoice Number: 0000  Issue Date: Date  Due Date: Date".to_owned());
            out.push(
                f.pick(&[
                    "Item # Description Quantity Unit Price Total",
                    "SERVICE DESCRIPTION qty/hrs rate total",
                ])
                .to_owned(),
            );
            for _ in 0..f.int(1, 4) {
                out.push("Placeholder Text 000 000 000".to_owned());
            }
            out.push("Subtotal".to_owned());
            out.push("Tax".to_owned());
            out.push("TOTAL".to_owned());
            out.push(
                f.pick(&[
                    "Terms & Conditions",
                    "Payment is due within 30 days",
                    "Thank you",
                ])
                .to_owned(),
            );
        }
        3 => {
            let w = &INVOICE_LANGUAGES[f.rng.below(INVOICE_LANGUAGES.len())];
            european_invoice(w, &vendor, &customer, &number, f, &mut out);
        }
        _ => {
            out.push(format!("{vendor} - Invoice {number}"));
            out.push(format!("Billed to {customer} on {}", f.date()));
            out.push(format!("Order reference PO-{}", f.int(1000, 99999)));
            out.extend(lines);
            out.push(format!("Amount due: {} by {}", f.money(total), f.date()));
            out.push(format!(
                "Please remit payment to {} account {}",
                f.pick(BANKS),
                f.masked_account()
            ));
            out.push("Late payments are subject to a 1.5% monthly fee.".to_owned());
        }
    }
    let layouts = ["classic", "bill", "blank", "european", "compact"];
    (layouts[layout as usize], out.join("\n"))
}

/// The words of a till receipt in one language.
struct TillWords {
    totals: &'static [&'static str],
    subtotal: &'static [&'static str],
    tax: &'static [&'static str],
    cash: &'static [&'static str],
    card: &'static [&'static str],
    change: &'static [&'static str],
    number: &'static [&'static str],
    staff: &'static [&'static str],
    till: &'static [&'static str],
    footer: &'static [&'static str],
    tax_id: &'static [&'static str],
    currency: &'static [&'static str],
    items: &'static [&'static str],
    /// Whether amounts are written `1,99` rather than `1.99`.
    decimal_comma: bool,
}

const TILL_LANGUAGES: &[TillWords] = &[
    TillWords {
        totals: &[
            "TOTAL",
            "TOTAL DUE",
            "Total",
            "AMOUNT DUE",
            "BALANCE DUE",
            "Total (incl. GST)",
        ],
        subtotal: &["SUBTOTAL", "Sub Total", "SUB-TOTAL"],
        tax: &["VAT", "TAX", "GST", "Sales Tax", "SST"],
        cash: &["CASH", "Cash", "CASH TENDERED"],
        card: &["VISA", "MASTERCARD", "DEBIT CARD", "AMEX", "CONTACTLESS"],
        change: &["CHANGE", "Change due", "CHANGE DUE"],
        number: &[
            "Receipt No",
            "Trans",
            "Bill No",
            "Invoice No",
            "Ref",
            "Order #",
            "Check",
        ],
        staff: &["Cashier", "Server", "Operator", "Served by", "Clerk"],
        till: &["Till", "Reg", "POS", "Terminal", "Counter", "Table"],
        footer: &[
            "THANK YOU",
            "Thank you for shopping with us",
            "Please come again",
            "Have a nice day",
            "Goods sold are not returnable",
            "Keep your receipt",
            "Tell us how we did",
            "Prices include GST",
        ],
        tax_id: &[
            "VAT No",
            "GST Reg No",
            "ABN",
            "Tax ID",
            "Co. Reg No",
            "GST ID",
        ],
        currency: &["", "$", "£", "RM", "S$", "USD"],
        items: &[
            "MILK 2L",
            "BREAD WHITE",
            "BANANAS",
            "EGGS 12PK",
            "CHEDDAR",
            "COFFEE LATTE",
            "CAPPUCCINO",
            "MUFFIN",
            "WATER 500ML",
            "COKE ZERO",
            "CHICKEN RICE",
            "NASI LEMAK",
            "TEH TARIK",
            "FRIES",
            "BURGER",
            "SALAD",
            "PASTA",
            "APPLES",
            "TOMATOES",
            "DETERGENT",
            "TOOTHPASTE",
            "BATTERIES AA",
            "PENCIL 2B",
            "A4 PAPER",
            "PETROL UNL",
            "PARKING",
            "TIP",
            "SERVICE CHARGE",
            "BAG",
            "DISCOUNT",
        ],
        decimal_comma: false,
    },
    TillWords {
        totals: &[
            "SUMME",
            "Summe",
            "GESAMT",
            "Zu zahlen",
            "Gesamtbetrag",
            "SUMME EUR",
        ],
        subtotal: &["Zwischensumme", "ZWISCHENSUMME", "Zw.-Summe"],
        tax: &["MwSt", "USt", "Steuer", "MwSt.", "A="],
        cash: &["BAR", "Bar", "Gegeben BAR", "Geg. BAR"],
        card: &[
            "EC-Karte",
            "Girocard",
            "Kartenzahlung",
            "VISA",
            "Mastercard",
        ],
        change: &["Rückgeld", "RÜCKGELD", "Zurück", "Rückgeld BAR"],
        number: &[
            "Bon-Nr",
            "Beleg-Nr",
            "Bon",
            "Trace-Nr",
            "Beleg",
            "Kassenbon",
        ],
        staff: &["Kassierer", "Bediener", "Bed.", "Es bediente Sie"],
        till: &["Kasse", "Markt", "Filiale", "Kasse Nr"],
        footer: &[
            "Vielen Dank für Ihren Einkauf",
            "Danke für Ihren Besuch",
            "Bitte Bon aufbewahren",
            "Umtausch nur mit Kassenbon",
            "Auf Wiedersehen",
            "TSE-Signatur",
            "TSE-Transaktion",
            "Kundenbeleg",
            "Steuer % Netto Steuer Brutto",
        ],
        tax_id: &["USt-IdNr", "St.-Nr", "UID Nr", "Steuernummer"],
        currency: &["EUR", "€", ""],
        items: &[
            "MILCH 3,5%",
            "BROT",
            "BANANE",
            "EIER",
            "KÄSE GOUDA",
            "BUTTER",
            "JOGHURT",
            "APFEL",
            "TOMATEN",
            "KAFFEE",
            "MINERALWASSER",
            "PFAND",
            "LEERGUT",
            "TÜTE",
            "BRÖTCHEN",
            "SALAMI",
            "NUDELN",
            "REIS",
            "SCHOKOLADE",
            "BIER",
            "WEIN ROT",
            "SPÜLMITTEL",
            "ZAHNPASTA",
            "BATTERIEN",
            "SUPER E10",
            "BREZEL",
            "CAPPUCCINO",
        ],
        decimal_comma: true,
    },
    TillWords {
        totals: &["TOTAL", "TOTAL TTC", "MONTANT DU", "A PAYER", "Total"],
        subtotal: &["SOUS-TOTAL", "Sous-total", "TOTAL HT"],
        tax: &["TVA", "Taux TVA", "dont TVA"],
        cash: &["ESPECES", "Espèces", "ESPÈCES"],
        card: &["CB", "Carte Bancaire", "CARTE", "CB SANS CONTACT"],
        change: &["RENDU", "Rendu monnaie", "A RENDRE"],
        number: &["Ticket", "N° ticket", "Ticket n°", "Transaction"],
        staff: &["Caissier", "Hôte", "Vendeur", "Serveur"],
        till: &["Caisse", "Table", "Terminal"],
        footer: &[
            "MERCI DE VOTRE VISITE",
            "A BIENTOT",
            "Conservez votre ticket",
            "Ni repris ni échangé",
            "Bonne journée",
            "TICKET CLIENT",
        ],
        tax_id: &["SIRET", "N° TVA", "TVA intracom", "RCS"],
        currency: &["EUR", "€"],
        items: &[
            "BAGUETTE",
            "CROISSANT",
            "LAIT DEMI-ECR",
            "FROMAGE",
            "BEURRE",
            "POMMES",
            "CAFE",
            "EAU MINERALE",
            "VIN ROUGE",
            "YAOURT",
            "JAMBON",
            "PATES",
            "GAZOLE",
            "SANS PLOMB 95",
            "ENTREE ADULTE",
            "MENU DU JOUR",
            "CAFE CREME",
            "SAC",
        ],
        decimal_comma: true,
    },
    TillWords {
        totals: &["TOTAL", "TOTAL A PAGAR", "IMPORTE", "TOTAL EUR"],
        subtotal: &["SUBTOTAL", "BASE IMPONIBLE", "Base"],
        tax: &["IVA", "Cuota IVA", "IVA incl."],
        cash: &["EFECTIVO", "CONTADO", "Entregado"],
        card: &["TARJETA", "VISA", "TARJETA CREDITO", "DATAFONO"],
        change: &["CAMBIO", "DEVOLUCION", "Cambio"],
        number: &["Ticket", "Nº Factura simplificada", "Nº", "Operación"],
        staff: &["Cajero", "Le atendió", "Vendedor", "Camarero"],
        till: &["Caja", "TPV", "Mesa", "Terminal"],
        footer: &[
            "GRACIAS POR SU VISITA",
            "GRACIAS POR SU COMPRA",
            "Conserve su ticket",
            "No se admiten devoluciones sin ticket",
            "FACTURA SIMPLIFICADA",
        ],
        tax_id: &["NIF", "CIF", "N.I.F."],
        currency: &["EUR", "€"],
        items: &[
            "LECHE ENTERA",
            "PAN",
            "PLATANOS",
            "HUEVOS",
            "QUESO",
            "ACEITE OLIVA",
            "AGUA 1,5L",
            "CERVEZA",
            "VINO TINTO",
            "TOMATES",
            "ARROZ",
            "CAFE SOLO",
            "CAÑA",
            "TAPAS",
            "MENU DEL DIA",
            "GASOLINA 95",
            "BOLSA",
        ],
        decimal_comma: true,
    },
    TillWords {
        totals: &["TOTALE", "TOTALE EURO", "TOTALE COMPLESSIVO", "Totale"],
        subtotal: &["SUBTOTALE", "Subtotale"],
        tax: &["IVA", "di cui IVA", "Aliquota IVA"],
        cash: &["CONTANTI", "Contante", "PAGAMENTO CONTANTE"],
        card: &["CARTA", "BANCOMAT", "PAGAMENTO ELETTRONICO", "VISA"],
        change: &["RESTO", "Resto"],
        number: &[
            "DOCUMENTO COMMERCIALE",
            "Scontrino n.",
            "Documento n.",
            "RT",
        ],
        staff: &["Cassiere", "Operatore", "Cameriere"],
        till: &["Cassa", "Tavolo", "Terminale"],
        footer: &[
            "GRAZIE E ARRIVEDERCI",
            "Conservare lo scontrino",
            "DOCUMENTO COMMERCIALE di vendita o prestazione",
            "Grazie per la visita",
        ],
        tax_id: &["P.IVA", "Partita IVA", "C.F."],
        currency: &["EUR", "€"],
        items: &[
            "PANE",
            "LATTE INTERO",
            "MOZZARELLA",
            "POMODORI",
            "PASTA",
            "CAFFE",
            "ACQUA NAT",
            "VINO ROSSO",
            "BANANE",
            "PROSCIUTTO",
            "GELATO",
            "CORNETTO",
            "BENZINA",
            "SHOPPER",
        ],
        decimal_comma: true,
    },
    TillWords {
        totals: &["TOTAL", "TOTAL A PAGAR", "Total", "TOTAL EUR"],
        subtotal: &["SUBTOTAL", "Subtotal"],
        tax: &["IVA", "Taxa IVA", "IVA incluído"],
        cash: &["NUMERARIO", "Dinheiro", "PAGAMENTO DINHEIRO"],
        card: &["MULTIBANCO", "CARTAO", "VISA", "MB WAY"],
        change: &["TROCO", "Troco"],
        number: &["Fatura simplificada", "Talão n.º", "FS", "Documento"],
        staff: &["Operador", "Caixa", "Atendido por"],
        till: &["Caixa", "Mesa", "Terminal"],
        footer: &[
            "OBRIGADO PELA SUA VISITA",
            "Volte sempre",
            "Processado por programa certificado",
            "Conserve o talão",
        ],
        tax_id: &["NIF", "Contribuinte", "NIPC"],
        currency: &["EUR", "€"],
        items: &[
            "PAO",
            "LEITE MEIO GORDO",
            "QUEIJO",
            "BACALHAU",
            "ARROZ",
            "CAFE",
            "AGUA",
            "VINHO TINTO",
            "BANANA",
            "PASTEL DE NATA",
            "GASOLEO",
            "SACO",
        ],
        decimal_comma: true,
    },
    TillWords {
        totals: &["TOTAAL", "Totaal", "TE BETALEN", "TOTAAL EUR"],
        subtotal: &["SUBTOTAAL", "Subtotaal"],
        tax: &["BTW", "BTW 9%", "BTW 21%"],
        cash: &["CONTANT", "Contant betaald"],
        card: &["PIN", "PINNEN", "MAESTRO", "V PAY", "CONTACTLOOS"],
        change: &["WISSELGELD", "Terug"],
        number: &["Bonnr", "Kassabon", "Transactie", "Bon"],
        staff: &["Kassa medewerker", "Caissière", "U werd geholpen door"],
        till: &["Kassa", "Filiaal", "Tafel"],
        footer: &[
            "BEDANKT VOOR UW BEZOEK",
            "Tot ziens",
            "Bewaar uw kassabon",
            "Ruilen alleen met kassabon",
        ],
        tax_id: &["BTW-nr", "KvK", "BTW nummer"],
        currency: &["EUR", "€"],
        items: &[
            "BROOD",
            "HALFVOLLE MELK",
            "KAAS JONG",
            "EIEREN",
            "APPELS",
            "KOFFIE",
            "SPA BLAUW",
            "BIER",
            "HAGELSLAG",
            "STATIEGELD",
            "TAS",
            "EURO 95",
        ],
        decimal_comma: true,
    },
];

/// A till receipt as a shop prints it and a phone photographs it: the
/// shop's header, many short item lines with prices and tax codes,
/// totals, the tax breakdown, payment and change, receipt and till
/// numbers, a footer — in English, German, French, Spanish, Italian,
/// Portuguese or Dutch. Real
/// receipts were read as bank statements or left `unsure`: the template
/// receipts of the taxonomy (a few items in a letter or a form) look like
/// no till slip.
fn till_receipt(f: &mut Faker) -> (&'static str, String) {
    let language = f.rng.below(TILL_LANGUAGES.len());
    ("till", till_receipt_in(&TILL_LANGUAGES[language], f))
}

/// A till receipt written with the words `w`.
fn till_receipt_in(w: &TillWords, f: &mut Faker) -> String {
    let amount = |cents: i64| {
        let text = format_cents(cents).replace(',', "");
        if w.decimal_comma {
            text.replace('.', ",")
        } else {
            text
        }
    };
    let currency = f.pick(w.currency);
    let mut out = Vec::new();
    out.push(if f.chance(0.5) {
        f.company().to_uppercase()
    } else {
        f.company()
    });
    if f.chance(0.7) {
        out.push(f.street());
        out.push(f.city());
    }
    if f.chance(0.6) {
        out.push(format!("Tel {}", f.phone()));
    }
    if f.chance(0.3) {
        out.push(format!(
            "{}: {}{}",
            f.pick(w.tax_id),
            f.pick(&["DE", "FR", "ES", "GB", "", ""]),
            f.int(10_000_000, 999_999_999)
        ));
    }
    let (h, m) = (f.int(7, 22), f.int(0, 59));
    let stamp = format!("{} {h:02}:{m:02}", f.date());
    if f.chance(0.5) {
        out.push(stamp.clone());
    }
    if f.chance(0.5) {
        out.push(format!("{} {}", f.pick(w.till), f.int(1, 40)));
    }
    let mut total = 0;
    for _ in 0..f.int(2, 18) {
        let name = if f.chance(0.35) {
            f.invented_word().to_uppercase()
        } else {
            f.pick(w.items).to_owned()
        };
        let unit = f.int(49, 2_999);
        let quantity = if f.chance(0.2) { f.int(2, 6) } else { 1 };
        let price = unit * quantity;
        total += price;
        let code = f.pick(&["A", "B", "1", "2", "*", "", ""]);
        match f.int(0, 2) {
            0 if quantity > 1 => {
                out.push(format!("{quantity} x {}", amount(unit)));
                out.push(format!("{name}  {} {code}", amount(price)));
            }
            1 if quantity > 1 => out.push(format!(
                "{name}  {quantity} @ {}  {} {code}",
                amount(unit),
                amount(price)
            )),
            _ => out.push(format!("{name}  {} {code}", amount(price))),
        }
    }
    if f.chance(0.3) {
        out.push("-".repeat(f.int(16, 40) as usize));
    }
    if f.chance(0.5) {
        out.push(format!("{}  {}", f.pick(w.subtotal), amount(total)));
    }
    let rate = f.pick(&["19", "7", "20", "10", "21", "6", "8", "5,5"]);
    let tax = total * 15 / 115;
    out.push(format!("{} {currency} {}", f.pick(w.totals), amount(total)));
    match f.int(0, 2) {
        0 => out.push(format!("{} {rate}%  {}", f.pick(w.tax), amount(tax))),
        1 => out.push(format!(
            "{} {rate}%  {}  {}  {}",
            f.pick(w.tax),
            amount(total - tax),
            amount(tax),
            amount(total)
        )),
        _ => {}
    }
    if f.chance(0.5) {
        let given = (total / 500 + 1) * 500;
        out.push(format!("{} {currency} {}", f.pick(w.cash), amount(given)));
        out.push(format!(
            "{} {currency} {}",
            f.pick(w.change),
            amount(given - total)
        ));
    } else {
        out.push(format!(
            "{} **** {:04}  {}",
            f.pick(w.card),
            f.int(0, 9999),
            amount(total)
        ));
        if f.chance(0.4) {
            out.push(format!("AUTH {:06}", f.int(0, 999_999)));
        }
    }
    if f.chance(0.6) {
        out.push(format!(
            "{} {}  {} {}",
            f.pick(w.number),
            f.int(100, 99_999),
            f.pick(w.staff),
            f.pick(FIRST)
        ));
    }
    if f.chance(0.6) {
        out.push(stamp);
    }
    for _ in 0..f.int(0, 2) {
        out.push(f.pick(w.footer).to_owned());
    }
    out.join("\n")
}

/// The words of an invoice in one European language.
struct InvoiceWords {
    titles: &'static [&'static str],
    number: &'static [&'static str],
    date: &'static [&'static str],
    customer: &'static [&'static str],
    /// Description, quantity, unit price, amount.
    columns: [&'static str; 4],
    subtotal: &'static [&'static str],
    tax: &'static str,
    totals: &'static [&'static str],
    terms: &'static [&'static str],
    tax_id: &'static [&'static str],
    items: &'static [&'static str],
}

const INVOICE_LANGUAGES: &[InvoiceWords] = &[
    InvoiceWords {
        titles: &["RECHNUNG", "Rechnung"],
        number: &["Rechnungsnummer", "Rechnung Nr.", "Rechnungs-Nr."],
        date: &["Rechnungsdatum", "Datum", "Leistungsdatum"],
        customer: &["Kunde", "Rechnungsempfänger", "Kundennummer"],
        columns: ["Beschreibung", "Menge", "Einzelpreis", "Betrag"],
        subtotal: &["Zwischensumme", "Nettobetrag", "Summe netto"],
        tax: "MwSt",
        totals: &["Gesamtbetrag", "Rechnungsbetrag", "Summe brutto"],
        terms: &[
            "Zahlbar innerhalb von 14 Tagen ohne Abzug.",
            "Bitte überweisen Sie den Betrag unter Angabe der Rechnungsnummer.",
        ],
        tax_id: &["USt-IdNr.", "Steuernummer"],
        items: &[
            "Beratungsleistung",
            "Wartung",
            "Softwarelizenz",
            "Montage",
            "Versandkosten",
            "Reparatur",
            "Material",
        ],
    },
    InvoiceWords {
        titles: &["FACTURE", "Facture"],
        number: &["Numéro de facture", "Facture n°"],
        date: &["Date de facture", "Date", "Date d'émission"],
        customer: &["Client", "Facturé à"],
        columns: ["Désignation", "Quantité", "Prix unitaire HT", "Montant HT"],
        subtotal: &["Total HT", "Montant HT"],
        tax: "TVA",
        totals: &["Total TTC", "Net à payer", "Montant TTC"],
        terms: &[
            "Paiement à 30 jours date de facture.",
            "En cas de retard de paiement, une pénalité sera appliquée.",
        ],
        tax_id: &["SIRET", "N° TVA intracommunautaire"],
        items: &[
            "Prestation de conseil",
            "Maintenance",
            "Licence logicielle",
            "Main d'œuvre",
            "Frais de port",
            "Réparation",
        ],
    },
    InvoiceWords {
        titles: &["FACTURA", "Factura", "FACTURA A", "FACTURA B"],
        number: &["Número de factura", "Factura N°", "NUMERO", "Nro."],
        date: &["Fecha de factura", "FECHA", "Fecha de emisión"],
        customer: &["Cliente", "Señor/es", "Razón social"],
        columns: ["Descripción", "Cantidad", "Precio unitario", "Importe"],
        subtotal: &["Subtotal", "Base imponible", "Neto gravado"],
        tax: "IVA",
        totals: &["Total", "Total a pagar", "IMPORTE TOTAL"],
        terms: &[
            "Condición de venta: contado.",
            "Forma de pago: transferencia bancaria a 30 días.",
        ],
        tax_id: &["CIF", "NIF", "CUIT", "RFC", "RUT"],
        items: &[
            "Servicios de consultoría",
            "Mano de obra",
            "Mantenimiento",
            "Repuestos",
            "Licencia de software",
            "Transporte",
            "Honorarios",
        ],
    },
    InvoiceWords {
        titles: &["FATTURA", "Fattura", "FATTURA ELETTRONICA"],
        number: &["Fattura n.", "Numero fattura", "N. documento"],
        date: &["Data", "Data fattura", "Data documento"],
        customer: &["Cliente", "Spett.le", "Destinatario"],
        columns: ["Descrizione", "Quantità", "Prezzo unitario", "Importo"],
        subtotal: &["Imponibile", "Totale imponibile"],
        tax: "IVA",
        totals: &["Totale documento", "Totale fattura", "Totale da pagare"],
        terms: &[
            "Pagamento a 30 giorni data fattura.",
            "Modalità di pagamento: bonifico bancario.",
        ],
        tax_id: &["P.IVA", "Codice fiscale"],
        items: &[
            "Consulenza",
            "Manutenzione",
            "Licenza software",
            "Manodopera",
            "Spese di trasporto",
            "Riparazione",
        ],
    },
    InvoiceWords {
        titles: &["FATURA", "Fatura", "FATURA-RECIBO"],
        number: &["Fatura n.º", "Número da fatura"],
        date: &["Data de emissão", "Data", "Data de vencimento"],
        customer: &["Cliente", "Exmo.(s) Sr.(s)"],
        columns: ["Descrição", "Qtd.", "Preço unitário", "Valor"],
        subtotal: &["Total ilíquido", "Subtotal", "Base tributável"],
        tax: "IVA",
        totals: &["Total a pagar", "Total", "Total (EUR)"],
        terms: &[
            "Pagamento a 30 dias.",
            "Processado por programa certificado.",
        ],
        tax_id: &["NIF", "Contribuinte", "NIPC"],
        items: &[
            "Serviços de consultoria",
            "Manutenção",
            "Licença de software",
            "Mão de obra",
            "Portes",
            "Reparação",
        ],
    },
    InvoiceWords {
        titles: &["FACTUUR", "Factuur"],
        number: &["Factuurnummer", "Factuur nr."],
        date: &["Factuurdatum", "Datum", "Vervaldatum"],
        customer: &["Klant", "Aan", "Klantnummer"],
        columns: ["Omschrijving", "Aantal", "Prijs", "Bedrag"],
        subtotal: &["Subtotaal", "Totaal excl. BTW"],
        tax: "BTW",
        totals: &["Totaal incl. BTW", "Te betalen", "Totaal"],
        terms: &[
            "Betaling binnen 30 dagen na factuurdatum.",
            "Gelieve het bedrag over te maken onder vermelding van het factuurnummer.",
        ],
        tax_id: &["BTW-nr", "KvK", "BTW nummer"],
        items: &[
            "Advieswerkzaamheden",
            "Onderhoud",
            "Softwarelicentie",
            "Arbeidsloon",
            "Verzendkosten",
            "Reparatie",
        ],
    },
];

/// An invoice written in one European language with the words `w`:
/// seller with its tax id, number, date, customer, item table with the
/// language's column heads and decimal commas, net, tax and total,
/// payment terms, IBAN.
fn european_invoice(
    w: &InvoiceWords,
    vendor: &str,
    customer: &str,
    number: &str,
    f: &mut Faker,
    out: &mut Vec<String>,
) {
    // 1,234.56 as the continent writes it: 1.234,56.
    let comma = |cents: i64| {
        format_cents(cents)
            .replace(',', "\u{0}")
            .replace('.', ",")
            .replace('\u{0}', ".")
    };
    out.push(f.pick(w.titles).to_owned());
    out.push(vendor.to_owned());
    out.push(f.street());
    if f.chance(0.7) {
        out.push(format!(
            "{}: {}",
            f.pick(w.tax_id),
            f.int(10_000_000, 999_999_999)
        ));
    }
    out.push(format!("{}: {number}", f.pick(w.number)));
    out.push(format!("{}: {}", f.pick(w.date), f.date()));
    out.push(format!("{}: {customer}", f.pick(w.customer)));
    out.push(w.columns.join("  "));
    let mut net = 0;
    for _ in 0..f.int(1, 7) {
        let quantity = f.int(1, 20);
        let unit = f.int(500, 150_000);
        net += quantity * unit;
        out.push(format!(
            "{}  {quantity}  {}  {}",
            f.pick(w.items),
            comma(unit),
            comma(quantity * unit)
        ));
    }
    let rate = *f.rng.pick(&[4, 6, 7, 10, 19, 20, 21, 22, 23]);
    let tax = net * rate / 100;
    out.push(format!("{} {}", f.pick(w.subtotal), comma(net)));
    out.push(format!("{} {rate}%: {}", w.tax, comma(tax)));
    out.push(format!("{}: {} EUR", f.pick(w.totals), comma(net + tax)));
    out.push(f.pick(w.terms).to_owned());
    out.push(format!(
        "IBAN: {}{} {} {}",
        f.pick(&["DE", "FR", "ES", "IT", "PT", "NL"]),
        f.int(10, 99),
        f.int(1000, 9999),
        f.int(1000, 9999)
    ));
}

fn bank_statement(f: &mut Faker) -> (&'static str, String) {
    // Online-banking exports (layout 3) are the most common upload.
    let layout = f.int(0, 4).min(3);
    let bank = f.pick(BANKS).to_owned();
    let holder = f.person();
    let descriptions = [
        "Direct Deposit",
        "ACH Payment",
        "POS Purchase",
        "ATM Withdrawal",
        "Check Deposit",
        "Debit Card Purchase",
        "Wire Transfer",
        "Online Transfer",
        "Interest Paid",
        "Monthly Service Fee",
        "Mortgage Payment",
        "Utility Bill Payment",
        "Payroll",
        "Refund",
        "Standing Order",
    ];
    let mut balance = f.int(10_000, 2_000_000);
    let opening = balance;
    let mut rows = Vec::new();
    for _ in 0..f.int(3, 18) {
        let amount = f.int(-90_000, 90_000);
        balance += amount;
        let description = if layout == 3 || f.chance(0.2) {
            f.free_text_reference()
        } else {
            f.pick(&descriptions).to_owned()
        };
        rows.push((f.date(), description, amount, balance));
    }
    let mut out = Vec::new();
    match layout {
        0 => {
            out.push(bank.clone());
            out.push(format!("Customer Support: {}", f.phone()));
            out.push(format!("www.{}", f.domain()));
            out.push(format!("Account Holder: {holder}"));
            out.push(format!("Account Number: {}", f.masked_account()));
            out.push(format!("Statement Period: {} to {}", f.date(), f.date()));
            out.push(format!("Opening Balance: {}", f.money(opening)));
            out.push("Date  Description  Debit ($)  Credit ($)".to_owned());
            for (date, description, amount, _) in &rows {
                out.push(format!(
                    "{date}  {description}  {}",
                    format_cents(amount.abs())
                ));
            }
            out.push(format!("Closing Balance: {}", f.money(balance)));
        }
        1 => {
            out.push(format!(
                "{} {}",
                bank,
                f.pick(&[
                    "Account Statement",
                    "STATEMENT OF ACCOUNT",
                    "Bank Statement",
                    "Checking Account Statement"
                ])
            ));
            out.push(holder.clone());
            out.push(f.street());
            out.push(f.city());
            out.push(format!(
                "Statement date {}  Page 1 of {}",
                f.date(),
                f.int(1, 4)
            ));
            out.push(format!(
                "Sort code {}-{}-{}  Account no {}",
                f.int(10, 99),
                f.int(10, 99),
                f.int(10, 99),
                f.masked_account()
            ));
            out.push("Date  Details  Paid out  Paid in  Balance".to_owned());
            for (date, description, amount, balance) in &rows {
                out.push(format!(
                    "{date}  {description}  {}  {}",
                    format_cents(*amount),
                    format_cents(*balance)
                ));
            }
            out.push(format!("Balance carried forward {}", format_cents(balance)));
            out.push("Your deposits are protected up to the applicable limit.".to_owned());
        }
        2 => {
            out.push(
                f.pick(&["Kontoauszug", "Relevé de compte", "Extracto bancario"])
                    .to_owned(),
            );
            out.push(bank.clone());
            out.push(format!(
                "IBAN DE{} {} {} {}",
                f.int(10, 99),
                f.int(1000, 9999),
                f.int(1000, 9999),
                f.int(1000, 9999)
            ));
            out.push(holder.clone());
            out.push(format!(
                "Alter Kontostand / Solde précédent {}",
                format_cents(opening)
            ));
            for (date, description, amount, _) in &rows {
                out.push(format!("{date} {description} {}", format_cents(*amount)));
            }
            out.push(format!(
                "Neuer Kontostand / Nouveau solde {}",
                format_cents(balance)
            ));
        }
        _ => {
            // Exports from online banking: delimited rows.
            let header = f.pick(&[
                "date | description | amount",
                "Date | Description | Amount | Balance",
                "Transaction Date | Details | Debit | Credit",
                "Posting Date | Description | Amount | Running Bal.",
            ]);
            out.push(header.to_owned());
            let iso = f.chance(0.6);
            for (date, description, amount, balance) in &rows {
                let date = if iso {
                    format!(
                        "{}-{:02}-{:02}",
                        f.int(2019, 2026),
                        f.int(1, 12),
                        f.int(1, 28)
                    )
                } else {
                    date.clone()
                };
                if header.matches('|').count() == 2 {
                    out.push(format!(
                        "{date} | {description} | {}",
                        format_cents(*amount).replace(',', "")
                    ));
                } else {
                    out.push(format!(
                        "{date} | {description} | {} | {}",
                        format_cents(*amount).replace(',', ""),
                        format_cents(*balance).replace(',', "")
                    ));
                }
            }
        }
    }
    let layouts = ["us", "uk", "european", "export"];
    (layouts[layout as usize], out.join("\n"))
}

fn financial_report(f: &mut Faker) -> (&'static str, String) {
    let layout = f.int(0, 2);
    let company = f.company();
    let revenue = f.int(10_000_000, 900_000_000);
    let cogs = revenue * f.int(20, 60) / 100;
    let gross = revenue - cogs;
    let opex = gross * f.int(20, 70) / 100;
    let net = gross - opex;
    let mut out = Vec::new();
    match layout {
        0 => {
            out.push(
                f.pick(&[
                    "Quarterly Financial Report",
                    "Annual Report",
                    "Financial Report",
                    "Interim Financial Statements",
                    "Monthly Management Report",
                ])
                .to_owned(),
            );
            out.push(format!("Report Date: {}", f.date()));
            out.push("Company Information".to_owned());
            out.push(format!("Company Name: {company}"));
            out.push(format!("Report Prepared By: {}", f.person()));
            out.push(format!(
                "Department: {}",
                f.pick(&[
                    "Finance and Accounting",
                    "Finance",
                    "Controlling",
                    "Investor Relations"
                ])
            ));
            out.push("Financial Summary".to_owned());
            out.push(format!("Revenue: {}", f.money(revenue)));
            out.push(format!("Cost of Goods Sold: {}", f.money(cogs)));
            out.push(format!("Gross Profit: {}", f.money(gross)));
            out.push(format!("Operating Expenses: {}", f.money(opex)));
            out.push(format!("Net Income: {}", f.money(net)));
            out.push("Notes".to_owned());
            out.push(
                f.pick(&[
                    "This report is prepared for internal management purposes.",
                    "Figures are unaudited and subject to change.",
                    "All amounts are stated in thousands unless otherwise noted.",
                ])
                .to_owned(),
            );
        }
        1 => {
            out.push(format!(
                "{company} {}",
                f.pick(&[
                    "Consolidated Balance Sheet",
                    "Statement of Financial Position",
                    "Income Statement",
                    "Statement of Cash Flows"
                ])
            ));
            out.push(format!(
                "For the {} ended {}",
                f.pick(&["year", "quarter", "six months"]),
                f.date()
            ));
            out.push("(in thousands of US dollars)".to_owned());
            // (line, low, high in cents; 0 for headings): a balance sheet's lines.
            let lines: [(&str, i64, i64); 11] = [
                ("Assets", 0, 0),
                ("Cash and cash equivalents", 1_000_000, 90_000_000),
                ("Accounts receivable", 1_000_000, 90_000_000),
                ("Inventories", 1_000_000, 90_000_000),
                ("Total current assets", 1_000_000, 900_000_000),
                ("Property, plant and equipment, net", 1_000_000, 90_000_000),
                ("Total assets", 10_000_000, 900_000_000),
                ("Liabilities and Shareholders' Equity", 0, 0),
                ("Accounts payable", 1_000_000, 90_000_000),
                ("Long-term debt", 1_000_000, 90_000_000),
                ("Total shareholders' equity", 1_000_000, 90_000_000),
            ];
            for (line, low, high) in lines {
                if high == 0 {
                    out.push(line.to_owned());
                } else {
                    out.push(format!("{line} {}", format_cents(f.int(low, high))));
                }
            }
            out.push(format!(
                "Net cash provided by operating activities {}",
                format_cents(net)
            ));
            out.push(format!(
                "Earnings per share, diluted {}",
                format_cents(f.int(10, 900))
            ));
        }
        _ => {
            out.push(format!(
                "{company} reports {} results",
                f.pick(&["fourth quarter", "third quarter", "full-year", "first half"])
            ));
            out.push(format!(
                "Revenue grew {}% year over year to {}",
                f.int(1, 40),
                f.money(revenue)
            ));
            out.push(format!(
                "EBITDA margin of {}%; net income {}",
                f.int(5, 40),
                f.money(net)
            ));
            out.push("Executive Summary".to_owned());
            out.push(format!(
                "The board reviewed performance against budget for fiscal year {}.",
                f.int(2019, 2026)
            ));
            out.push("Key Performance Indicators".to_owned());
            out.push(format!(
                "Operating margin {}%  Return on equity {}%  Debt to equity {}",
                f.int(2, 30),
                f.int(2, 30),
                f.int(1, 3)
            ));
            out.push("Outlook".to_owned());
            out.push("Management expects continued growth in the coming quarters, subject to market conditions.".to_owned());
            out.push(format!(
                "Auditor: {} LLP",
                f.pick(&["Deloitte", "PwC", "KPMG", "Ernst & Young", "Grant Thornton"])
            ));
        }
    }
    let layouts = ["summary", "statements", "narrative"];
    (layouts[layout as usize], out.join("\n"))
}

fn drivers_licence(f: &mut Faker) -> (&'static str, String) {
    let layout = f.int(0, 2);
    let name = f.person().to_uppercase();
    let mut out = Vec::new();
    match layout {
        0 => {
            out.push(f.pick(STATES).to_owned());
            out.push(
                f.pick(&[
                    "DRIVER LICENSE",
                    "DRIVER'S LICENSE",
                    "DRIVERS LICENSE",
                    "LICENSE",
                    "COMMERCIAL DRIVER LICENSE",
                    "USA DRIVER LICENSE",
                ])
                .to_owned(),
            );
            out.push(format!(
                "{} {}{}",
                f.pick(&["DL", "License No.", "LIC#", "NUMBER", "4d DLN"]),
                f.pick(&["P", "D", "Q", "S", "B"]),
                f.int(1_000_000, 99_999_999)
            ));
            out.push(format!(
                "{} {}",
                f.pick(&["EXP", "Expires", "4b EXP"]),
                f.date()
            ));
            out.push(format!(
                "{} {}",
                f.pick(&["ISS", "ISSUE DATE", "4a ISS"]),
                f.date()
            ));
            out.push(name);
            out.push(f.street().to_uppercase());
            out.push(f.city().to_uppercase());
            out.push(format!("DOB {}", f.date()));
            out.push(format!(
                "SEX {}  HGT {}-{:02}  WGT {} lb",
                f.pick(&["M", "F"]),
                f.int(4, 6),
                f.int(0, 11),
                f.int(100, 260)
            ));
            out.push(format!(
                "EYES {}  HAIR {}",
                f.pick(&["BRN", "BLU", "GRN", "HAZ", "Brown", "Blue"]),
                f.pick(&["BLK", "BRN", "BLN", "GRY", "Black"])
            ));
            out.push(format!(
                "CLASS {}  RSTR {}  END {}",
                f.pick(&["C", "D", "A", "B", "M"]),
                f.pick(&["NONE", "B", "CORR LENS"]),
                f.pick(&["NONE", "M"])
            ));
            if f.chance(0.4) {
                out.push("ORGAN DONOR".to_owned());
            }
            if f.chance(0.4) {
                out.push("Cardholder signature".to_owned());
            }
        }
        1 => {
            out.push(
                f.pick(&[
                    "DRIVING LICENCE",
                    "DRIVING LICENCE UK",
                    "PROVISIONAL DRIVING LICENCE",
                ])
                .to_owned(),
            );
            out.push(format!("1. {}", f.pick(LAST).to_uppercase()));
            out.push(format!("2. {}", f.pick(FIRST).to_uppercase()));
            out.push(format!(
                "3. {} {}",
                f.date(),
                f.pick(&["ENGLAND", "SCOTLAND", "WALES", "UNITED KINGDOM"])
            ));
            out.push(format!("4a. {}  4b. {}", f.date(), f.date()));
            out.push(format!("4c. {}", f.pick(&["DVLA", "DVA"])));
            out.push(format!(
                "5. {}{}",
                f.pick(LAST).to_uppercase(),
                f.int(100_000, 999_999)
            ));
            out.push(format!("8. {}", f.street().to_uppercase()));
            out.push(format!(
                "9. {}",
                f.pick(&[
                    "AM/A/B1/B/f/k/l/n/p",
                    "B/f/k/l/n/p",
                    "3 WHEELER ONLY",
                    "A/B/BE"
                ])
            ));
        }
        _ => {
            out.push(
                f.pick(&[
                    "PERMIS DE CONDUIRE",
                    "FÜHRERSCHEIN",
                    "PERMISO DE CONDUCCIÓN",
                    "DRIVER LICENCE",
                ])
                .to_owned(),
            );
            out.push(
                f.pick(&[
                    "RÉPUBLIQUE FRANÇAISE",
                    "BUNDESREPUBLIK DEUTSCHLAND",
                    "REINO DE ESPAÑA",
                    "EUROPEAN UNION",
                    "NEW SOUTH WALES",
                ])
                .to_owned(),
            );
            out.push(format!("1. {}", f.pick(LAST).to_uppercase()));
            out.push(format!("2. {}", f.pick(FIRST).to_uppercase()));
            out.push(format!("3. {}", f.date()));
            out.push(format!("4a. {} 4b. {}", f.date(), f.date()));
            out.push(format!("5. {}", f.int(10_000_000, 99_999_999)));
            out.push(format!("9. {}", f.pick(&["B", "AM B", "A B C"])));
        }
    }
    let layouts = ["us", "uk", "eu"];
    (layouts[layout as usize], out.join("\n"))
}

fn contract(f: &mut Faker) -> (&'static str, String) {
    let layout = f.int(0, 2);
    let party_a = f.company();
    let party_b = if f.chance(0.5) {
        f.company()
    } else {
        f.person()
    };
    let kind = f.pick(&[
        "SERVICE AGREEMENT",
        "EMPLOYMENT CONTRACT",
        "LEASE AGREEMENT",
        "SALES CONTRACT",
        "CONSULTING AGREEMENT",
        "MASTER SERVICES AGREEMENT",
        "LOAN AGREEMENT",
    ]);
    let mut out = Vec::new();
    if layout == 2 {
        // The confidentiality body: an NDA, which a taxonomy with the
        // finer type learns as one (FINER_TEMPLATES).
        out.push(
            f.pick(&[
                "NON-DISCLOSURE AGREEMENT",
                "CONFIDENTIALITY AGREEMENT",
                "MUTUAL NON-DISCLOSURE AGREEMENT",
            ])
            .to_owned(),
        );
    } else {
        out.push(kind.to_owned());
    }
    match layout {
        0 => {
            out.push(format!("This Agreement is made and entered into as of {} (the \"Effective Date\") by and between {party_a} (\"Company\") and {party_b} (\"{}\").", f.date(), f.pick(&["Client", "Contractor", "Employee", "Tenant", "Recipient"])));
            out.push("WHEREAS, the parties wish to set forth the terms and conditions under which services will be provided;".to_owned());
            out.push("NOW, THEREFORE, in consideration of the mutual covenants contained herein, the parties agree as follows:".to_owned());
            out.push(format!("1. Term. This Agreement shall commence on the Effective Date and continue for {} months unless terminated earlier.", f.int(6, 60)));
            out.push(format!(
                "2. Compensation. Company shall pay {} per {}.",
                f.amount(100_000, 2_000_000),
                f.pick(&["month", "year", "hour", "milestone"])
            ));
            out.push("3. Confidentiality. Each party shall keep confidential all information disclosed by the other party.".to_owned());
            out.push("4. Termination. Either party may terminate this Agreement upon thirty (30) days written notice.".to_owned());
            out.push(format!("5. Governing Law. This Agreement shall be governed by the laws of the State of {}.", capitalise(&f.pick(STATES).to_lowercase())));
        }
        1 => {
            out.push(format!("between {party_a}, hereinafter referred to as the \"Landlord\", and {party_b}, hereinafter referred to as the \"Tenant\"."));
            out.push(format!("Premises: {}, {}", f.street(), f.city()));
            out.push(format!(
                "The lease term begins on {} and ends on {}.",
                f.date(),
                f.date()
            ));
            out.push(format!("Monthly rent of {} is payable on the first day of each month. Security deposit: {}.", f.amount(50_000, 500_000), f.amount(50_000, 500_000)));
            out.push("The Tenant shall not sublet the premises without prior written consent of the Landlord.".to_owned());
            out.push("Indemnification. Each party shall indemnify and hold harmless the other from any claims arising from its breach.".to_owned());
            out.push("Entire Agreement. This document constitutes the entire agreement between the parties and supersedes all prior understandings.".to_owned());
        }
        _ => {
            out.push(format!("Vertrag / Contrat entre {party_a} et {party_b}"));
            out.push("The Disclosing Party and the Receiving Party agree that Confidential Information shall not be disclosed to any third party.".to_owned());
            out.push(format!(
                "Obligations survive for a period of {} years after termination.",
                f.int(1, 10)
            ));
            out.push("Any dispute arising out of this Agreement shall be settled by binding arbitration.".to_owned());
            out.push("Severability. If any provision is held invalid, the remaining provisions remain in full force and effect.".to_owned());
        }
    }
    out.push("IN WITNESS WHEREOF, the parties have executed this Agreement as of the date first written above.".to_owned());
    out.push(format!(
        "Signed: ______________  Name: {}  Title: {}",
        f.person(),
        f.pick(&["CEO", "Director", "Managing Partner", "President"])
    ));
    out.push(format!(
        "Signed: ______________  Name: {}  Date: {}",
        f.person(),
        f.date()
    ));
    let layouts = ["services", "lease", "nda"];
    (layouts[layout as usize], out.join("\n"))
}

fn email(f: &mut Faker) -> (&'static str, String) {
    let layout = f.int(0, 1);
    let sender = f.person();
    let recipient = f.person();
    let domain = f.domain();
    let subjects = [
        "Meeting next week",
        "Re: project update",
        "Fwd: documents you asked for",
        "Quick question",
        "Re: Re: schedule",
        "Follow-up on our call",
        "Lunch on Friday?",
        "Updated proposal",
        "Out of office",
        "Team offsite planning",
    ];
    let mut out = Vec::new();
    out.push(format!(
        "From: {sender} <{}>",
        Faker::email_of(&sender, &domain)
    ));
    out.push(format!(
        "To: {recipient} <{}>",
        Faker::email_of(&recipient, &domain)
    ));
    if f.chance(0.3) {
        out.push(format!("Cc: {}", Faker::email_of(&f.person(), &domain)));
    }
    out.push(format!("Date: {}", f.date()));
    out.push(format!("Subject: {}", f.pick(&subjects)));
    if layout == 1 {
        out.push("MIME-Version: 1.0".to_owned());
        out.push("Content-Type: text/plain; charset=\"utf-8\"".to_owned());
    }
    out.push(format!(
        "{} {},",
        f.pick(&["Hi", "Hello", "Dear", "Hey"]),
        recipient.split(' ').next().unwrap_or("there")
    ));
    for _ in 0..f.int(1, 4) {
        out.push(
            f.pick(&[
                "Thanks for getting back to me so quickly.",
                "Could we move our meeting to Thursday afternoon?",
                "Please see my comments below and let me know what you think.",
                "I've attached the latest version for your review.",
                "Let me know if you have any questions.",
                "I'll be out of the office until Monday with limited access to email.",
                "Looking forward to catching up next week.",
                "Can you forward this to the rest of the team?",
            ])
            .to_owned(),
        );
    }
    out.push(
        f.pick(&[
            "Best regards,",
            "Thanks,",
            "Cheers,",
            "Kind regards,",
            "Sent from my iPhone",
        ])
        .to_owned(),
    );
    out.push(sender.clone());
    if f.chance(0.4) {
        out.push("-----Original Message-----".to_owned());
        out.push(format!("From: {recipient}"));
        out.push(format!("Sent: {}", f.date()));
        out.push("Subject: Re: earlier thread".to_owned());
    }
    let layouts = ["plain", "mime"];
    (layouts[layout as usize], out.join("\n"))
}

fn form(f: &mut Faker) -> (&'static str, String) {
    let layout = f.int(0, 2);
    let mut out = Vec::new();
    match layout {
        0 => {
            out.push(
                f.pick(&[
                    "APPLICATION FORM",
                    "Registration Form",
                    "Membership Application",
                    "Enrollment Form",
                    "Change of Address Form",
                    "Request Form",
                    "Patient Intake Form",
                ])
                .to_owned(),
            );
            out.push("Please complete all fields in BLOCK CAPITALS.".to_owned());
            for field in [
                "Full Name",
                "Date of Birth",
                "Address",
                "City",
                "Postcode / ZIP",
                "Phone",
                "Email",
                "Occupation",
            ] {
                if f.chance(0.75) {
                    out.push(format!(
                        "{field}: {}",
                        if f.chance(0.5) {
                            "____________________".to_owned()
                        } else {
                            f.person()
                        }
                    ));
                }
            }
            out.push("[ ] Yes  [ ] No  I agree to the terms and conditions".to_owned());
            out.push("Signature: ________________  Date: ____/____/______".to_owned());
            out.push("FOR OFFICE USE ONLY".to_owned());
            out.push(format!("Reference no. {}", f.int(1000, 99999)));
        }
        1 => {
            // Title lines of filled forms, one per line, as exported by form tools.
            for _ in 0..f.int(3, 10) {
                let line = match f.int(0, 2) {
                    0 => format!(
                        "Application form – {}",
                        if f.chance(0.5) {
                            format!("{}-{}", f.pick(LAST), f.pick(LAST))
                        } else {
                            f.company().replace(' ', "")
                        }
                    ),
                    1 => format!("Order form #{}", f.int(100_000, 999_999)),
                    _ => format!("Registration form for event {}", f.pick(FIRST)),
                };
                out.push(line);
            }
        }
        _ => {
            out.push(
                f.pick(&[
                    "ORDER FORM",
                    "Purchase Request Form",
                    "Leave Request Form",
                    "Expense Claim Form",
                    "Consent Form",
                ])
                .to_owned(),
            );
            out.push(format!(
                "Name: {}   Department: {}",
                f.person(),
                f.pick(&["Sales", "HR", "IT", "Operations"])
            ));
            out.push(
                "Tick the boxes that apply: [x] New  [ ] Renewal  [ ] Cancellation".to_owned(),
            );
            out.push(format!("Reason for request: {}", f.words(3, 8)));
            out.push("Applicant signature ____________   Approved by ____________".to_owned());
            out.push("Please return the completed form to the front desk.".to_owned());
        }
    }
    let layouts = ["blank", "titles", "request"];
    (layouts[layout as usize], out.join("\n"))
}

// ---------------------------------------------------------------- noise

/// Make a share of documents look like OCR output of scans and photos.
/// ID cards are almost always photographed, so they get more and worse noise.
pub(crate) fn degrade(label: &str, text: String, rng: &mut Rng) -> (String, bool) {
    let (probability, strength) = match label {
        "drivers_licence" => (0.8, 0.08),
        // Crumpled thermal paper photographed on a counter.
        "receipt" => (0.6, 0.06),
        _ => (0.3, 0.04),
    };
    if !rng.chance(probability) {
        return (text, false);
    }
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Lose some lines (glare, folds, crop).
    let keep = 1.0 - strength * 3.0;
    lines.retain(|_| rng.chance(keep));
    // Stray marks from backgrounds, photos and stamps.
    for _ in 0..rng.below(4) {
        let position = rng.below(lines.len() + 1);
        let junk: String = (0..rng.range(2, 8))
            .map(|_| *rng.pick(&['e', 'S', 'I', 'l', '|', '~', 'o', '0', '%', 'M', 'n', 'a']))
            .collect();
        lines.insert(position, junk);
    }
    let text = lines
        .into_iter()
        .map(|line| corrupt_characters(&line, strength, rng))
        .collect::<Vec<_>>()
        .join("\n");
    (text, true)
}

/// Typical OCR confusions, split words and dropped characters.
fn corrupt_characters(line: &str, strength: f64, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if !rng.chance(strength) {
            out.push(c);
            continue;
        }
        match rng.below(5) {
            0 => {}
            1 => {
                out.push(c);
                out.push(' ');
            }
            _ => out.push_str(match c {
                'l' | 'I' => "1",
                'O' | 'o' => "0",
                'S' => "5",
                'B' => "8",
                'm' => "rn",
                'e' => "c",
                'a' => "o",
                'i' => "l",
                '0' => "O",
                '1' => "l",
                _ => "",
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_balanced() {
        let a = generate(20, 7);
        let b = generate(20, 7);
        assert_eq!(a, b);
        assert_eq!(a.len(), 20 * LABELS.len());
        for label in LABELS {
            assert_eq!(a.iter().filter(|s| s.label == *label).count(), 20);
        }
        assert_ne!(generate(5, 1), generate(5, 2));
    }

    #[test]
    fn money_is_formatted() {
        assert_eq!(format_cents(123_456), "1,234.56");
        assert_eq!(format_cents(-5), "-0.05");
        assert_eq!(format_cents(100_000_000), "1,000,000.00");
    }

    #[test]
    fn till_receipts_have_a_total_and_a_payment_in_their_language() {
        let mut rng = Rng::new(11);
        for words in TILL_LANGUAGES {
            for _ in 0..20 {
                let text = till_receipt_in(words, &mut Faker { rng: &mut rng });
                let has_line = |starts: &[&str]| {
                    text.lines()
                        .any(|l| starts.iter().any(|s| l.starts_with(&format!("{s} "))))
                };
                assert!(has_line(words.totals), "no total:\n{text}");
                assert!(
                    has_line(words.cash) || has_line(words.card),
                    "no payment:\n{text}"
                );
                // Amounts are written as the language writes them.
                let total = text
                    .lines()
                    .find(|l| words.totals.iter().any(|t| l.starts_with(&format!("{t} "))))
                    .and_then(|l| l.rsplit(' ').next())
                    .unwrap_or_default();
                let separator = if words.decimal_comma { ',' } else { '.' };
                assert_eq!(
                    total.chars().rev().nth(2),
                    Some(separator),
                    "total {total:?} in:\n{text}"
                );
            }
        }
    }

    #[test]
    fn european_invoices_are_written_in_their_language() {
        let mut rng = Rng::new(5);
        for words in INVOICE_LANGUAGES {
            let mut out = Vec::new();
            let mut f = Faker { rng: &mut rng };
            european_invoice(words, "Vendor", "Customer", "F-1", &mut f, &mut out);
            assert!(words.titles.contains(&out[0].as_str()), "{out:?}");
            assert!(out.contains(&words.columns.join("  ")), "{out:?}");
            let total = out
                .iter()
                .find(|l| {
                    words
                        .totals
                        .iter()
                        .any(|t| l.starts_with(&format!("{t}: ")))
                })
                .unwrap_or_else(|| panic!("no total: {out:?}"));
            // 1.234,56 EUR: a decimal comma.
            let amount = total.trim_end_matches(" EUR");
            assert_eq!(amount.chars().rev().nth(2), Some(','), "{total}");
        }
    }

    #[test]
    fn every_template_is_used() {
        let samples = generate(60, 3);
        let templates: std::collections::BTreeSet<&str> =
            samples.iter().map(|s| s.template.as_str()).collect();
        assert!(templates.len() >= 20, "{templates:?}");
    }
}
