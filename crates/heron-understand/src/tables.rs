//! Tables: from word positions where the page has them (cells are runs of
//! words separated by a column-wide gap; columns come from the header's
//! cells), else from delimited text lines (tabs, ` | ` as spreadsheets
//! and CSV are extracted, or runs of spaces), and, as a last resort, from
//! statement lines that start with a date and end with amounts.

use heron_core::understanding::Table;

use crate::normalise::{DateOrder, date_at, money_at};
use crate::page::{Page, Row, union};

/// A table needs this many rows besides its header.
const MIN_BODY_ROWS: usize = 2;

/// Every table on every page.
pub fn find(pages: &[Page<'_>]) -> Vec<Table> {
    let mut tables = Vec::new();
    for page in pages {
        // Word positions first; text delimiters when they find nothing
        // (a table drawn with "|" in a PDF has no column gaps).
        let mut found = if page.rows.is_empty() {
            Vec::new()
        } else {
            from_rows(page)
        };
        if found.is_empty() {
            found = from_text(page);
        }
        if found.is_empty() {
            tables.extend(from_statement_lines(page));
        } else {
            tables.extend(found);
        }
    }
    tables
}

/// A run of cells with their horizontal extent (fractions of the width).
#[derive(Debug, Clone)]
struct Cell {
    text: String,
    x0: f32,
    x1: f32,
}

fn cells_of_row(row: &Row<'_>, gap: f32) -> Vec<Cell> {
    let mut cells: Vec<Cell> = Vec::new();
    // A printed "|" separates cells like a gap does.
    let mut split_next = false;
    for word in &row.words {
        if word.text == "|" {
            split_next = true;
            continue;
        }
        let split = std::mem::take(&mut split_next);
        match cells.last_mut() {
            Some(cell) if !split && word.bbox[0] - cell.x1 < gap => {
                cell.text.push(' ');
                cell.text.push_str(&word.text);
                cell.x1 = word.bbox[2];
            }
            _ => cells.push(Cell {
                text: word.text.clone(),
                x0: word.bbox[0],
                x1: word.bbox[2],
            }),
        }
    }
    cells
}

/// Tables from visual rows: blocks of consecutive rows of two or more
/// cells, laid onto the columns of their header (or widest row).
fn from_rows(page: &Page<'_>) -> Vec<Table> {
    let mut heights: Vec<f32> = page
        .words
        .iter()
        .map(|w| w.bbox[3] - w.bbox[1])
        .filter(|h| *h > 0.0)
        .collect();
    heights.sort_by(f32::total_cmp);
    let Some(&median_height) = heights.get(heights.len() / 2) else {
        return Vec::new();
    };
    // Column gaps are wider than a word space; on a page the height of a
    // line is a fair unit for both (widths are fractions of a wider side).
    let gap = median_height * 1.2;
    let rows: Vec<Vec<Cell>> = page.rows.iter().map(|r| cells_of_row(r, gap)).collect();
    let mut tables = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        if !is_table_row(&rows[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        // A row of words only after rows with numbers is the header of
        // the next table (a form's label–value rows, then a statement).
        let header_like = |r: &[Cell]| r.iter().all(|c| !has_digit(&c.text));
        while end + 1 < rows.len()
            && is_table_row(&rows[end + 1])
            && (!header_like(&rows[end + 1]) || header_like(&rows[end]))
        {
            end += 1;
        }
        if let Some(table) = lay_out(page, &rows[start..=end], start) {
            tables.push(table);
        }
        start = end + 1;
    }
    tables
}

fn is_table_row(cells: &[Cell]) -> bool {
    // "Label:" or "Label: value" cells make a form, not a table.
    let labels = cells
        .iter()
        .filter(|c| c.text.trim_end().ends_with(':') || c.text.contains(": "))
        .count();
    cells.len() >= 2 && labels * 2 < cells.len()
}

fn lay_out(page: &Page<'_>, rows: &[Vec<Cell>], first_row: usize) -> Option<Table> {
    let has_header = looks_like_header(rows.iter().map(|r| r.iter().map(|c| c.text.as_str())));
    let body = if has_header { &rows[1..] } else { rows };
    if body.len() < MIN_BODY_ROWS || !body.iter().any(|r| r.iter().any(|c| has_digit(&c.text))) {
        return None;
    }
    let columns: Vec<(f32, f32)> = if has_header {
        rows[0].iter().map(|c| (c.x0, c.x1)).collect()
    } else {
        rows.iter()
            .max_by_key(|r| r.len())?
            .iter()
            .map(|c| (c.x0, c.x1))
            .collect()
    };
    // Rows with as many cells as there are columns (a table drawn with
    // separators rather than aligned) are read cell by cell.
    let aligned_by_count = rows.iter().all(|r| r.len() == columns.len());
    let place = |row: &[Cell]| -> Vec<String> {
        if aligned_by_count {
            return row.iter().map(|c| c.text.clone()).collect();
        }
        let mut out = vec![String::new(); columns.len()];
        for cell in row {
            let column = best_column(&columns, cell);
            if !out[column].is_empty() {
                out[column].push(' ');
            }
            out[column].push_str(&cell.text);
        }
        out
    };
    let words = page.rows[first_row..first_row + rows.len()]
        .iter()
        .flat_map(|r| r.words.iter().copied());
    Some(Table {
        page: page.number,
        lines: [first_row as u32, (first_row + rows.len() - 1) as u32],
        bbox: Some(union(words)),
        header: if has_header {
            place(&rows[0])
        } else {
            Vec::new()
        },
        rows: body.iter().map(|r| place(r)).collect(),
        sheet: None,
    })
}

/// The column a cell belongs to: the one it overlaps most, else the
/// nearest by centre (numbers are often right-aligned under a header
/// that is wider or narrower than they are).
fn best_column(columns: &[(f32, f32)], cell: &Cell) -> usize {
    let overlap = |(x0, x1): (f32, f32)| (cell.x1.min(x1) - cell.x0.max(x0)).max(0.0);
    let centre = (cell.x0 + cell.x1) / 2.0;
    let mut best = 0;
    let mut best_key = (f32::MIN, f32::MIN);
    for (i, &column) in columns.iter().enumerate() {
        let key = (
            overlap(column),
            -(centre - (column.0 + column.1) / 2.0).abs(),
        );
        if key.0 > best_key.0 || (key.0 == best_key.0 && key.1 > best_key.1) {
            best = i;
            best_key = key;
        }
    }
    best
}

fn has_digit(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
}

/// A first row whose cells are all words, above rows with numbers.
fn looks_like_header<'r, R, C>(mut rows: R) -> bool
where
    R: Iterator<Item = C>,
    C: Iterator<Item = &'r str>,
{
    let Some(first) = rows.next() else {
        return false;
    };
    let first: Vec<&str> = first.collect();
    !first.is_empty()
        && first.iter().all(|c| {
            !c.trim().is_empty()
                && c.chars().filter(|c| c.is_ascii_digit()).count() * 3 < c.len().max(1)
        })
}

/// Split a text line into cells: tabs, ` | `, or runs of 2+ spaces.
fn split_cells(line: &str) -> Vec<String> {
    let trimmed = line.trim();
    let cells: Vec<&str> = if trimmed.contains('\t') {
        trimmed.split('\t').collect()
    } else if trimmed.contains(" | ") || trimmed.contains(" |") {
        trimmed.split('|').collect()
    } else {
        trimmed
            .split("  ")
            .filter(|c| !c.trim().is_empty())
            .collect()
    };
    cells.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// Tables from text lines with delimiters: blocks of consecutive lines
/// with the same number (two or more) of cells.
fn from_text(page: &Page<'_>) -> Vec<Table> {
    let lines: Vec<Vec<String>> = (0..page.lines.len())
        .map(|i| split_cells(page.line(i)))
        .collect();
    let mut tables = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let width = lines[start].len();
        let labels = lines[start]
            .iter()
            .filter(|c| c.ends_with(':') || c.contains(": "))
            .count();
        if width < 2 || labels * 2 >= width {
            start += 1;
            continue;
        }
        // Spreadsheet rows drop their trailing empty cells (`a | b` under
        // `a | b | c`): a `|` row with fewer cells continues the table.
        let piped = |i: usize| page.line(i).contains('|');
        let mut end = start;
        while end + 1 < lines.len()
            && (lines[end + 1].len() == width
                || (piped(start) && piped(end + 1) && (2..width).contains(&lines[end + 1].len())))
        {
            end += 1;
        }
        let block: Vec<Vec<String>> = lines[start..=end]
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row.resize(width, String::new());
                row
            })
            .collect();
        let block = block.as_slice();
        let has_header = looks_like_header(block.iter().map(|r| r.iter().map(String::as_str)));
        let body = if has_header { &block[1..] } else { block };
        if body.len() >= MIN_BODY_ROWS && body.iter().any(|r| r.iter().any(|c| has_digit(c))) {
            tables.push(Table {
                page: page.number,
                lines: [start as u32, end as u32],
                bbox: None,
                header: if has_header {
                    block[0].clone()
                } else {
                    Vec::new()
                },
                rows: body.to_vec(),
                sheet: None,
            });
        }
        start = end + 1;
    }
    tables
}

/// Statement lines — a date, a description, one or two amounts — in a
/// run, as a table of date, description, amount (and balance).
fn from_statement_lines(page: &Page<'_>) -> Vec<Table> {
    let order = crate::normalise::date_order_of(page.text);
    let parsed: Vec<Option<Vec<String>>> = (0..page.lines.len())
        .map(|i| statement_line(page.line(i), order))
        .collect();
    let mut tables = Vec::new();
    let mut start = 0;
    while start < parsed.len() {
        if parsed[start].is_none() {
            start += 1;
            continue;
        }
        let mut end = start;
        let mut rows = Vec::new();
        while end < parsed.len() {
            match &parsed[end] {
                Some(row) => rows.push(row.clone()),
                // One blank line between rows does not end the run.
                None if page.line(end).trim().is_empty() => {}
                None => break,
            }
            end += 1;
        }
        if rows.len() >= MIN_BODY_ROWS {
            let widest = rows.iter().map(Vec::len).max().unwrap_or(3);
            let mut header: Vec<String> = ["date", "description", "amount", "balance"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            header.truncate(widest);
            for row in &mut rows {
                row.resize(widest, String::new());
            }
            tables.push(Table {
                page: page.number,
                lines: [start as u32, end.saturating_sub(1) as u32],
                bbox: None,
                header,
                rows,
                sheet: None,
            });
        }
        start = end.max(start + 1);
    }
    tables
}

/// `[date, description, amount(, balance)]` of a statement line.
fn statement_line(line: &str, order: DateOrder) -> Option<Vec<String>> {
    let line = line.trim();
    let (_, used) = date_at(line, order)?;
    let date = line[..used].trim().to_owned();
    let mut rest: Vec<&str> = line[used..].split_whitespace().collect();
    let mut amounts = Vec::new();
    while amounts.len() < 2 {
        let Some(last) = rest.last() else { break };
        let looks_money = money_at(last).is_some_and(|(_, n)| n == last.len())
            && (last.contains('.') || last.contains(','));
        if !looks_money {
            break;
        }
        amounts.push((*last).to_owned());
        rest.pop();
    }
    if amounts.is_empty() || rest.is_empty() {
        return None;
    }
    amounts.reverse();
    let mut row = vec![date, rest.join(" ")];
    row.extend(amounts);
    Some(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use heron_core::layout::Word;

    fn words(rows: &[&[(&str, f32)]]) -> Vec<Word> {
        let mut out = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let y = 0.1 + i as f32 * 0.03;
            for (text, x) in row.iter() {
                out.push(Word {
                    text: (*text).to_owned(),
                    bbox: [*x, y, x + 0.012 * text.len() as f32, y + 0.015],
                });
            }
        }
        out
    }

    #[test]
    fn aligned_words_make_a_table_with_empty_cells_in_place() {
        let words = words(&[
            &[
                ("Date", 0.05),
                ("Description", 0.25),
                ("Debit", 0.7),
                ("Credit", 0.85),
            ],
            &[
                ("01/01/2023", 0.05),
                ("Direct", 0.25),
                ("Deposit", 0.33),
                ("326.73", 0.86),
            ],
            &[
                ("03/01/2023", 0.05),
                ("Check", 0.25),
                ("Deposit", 0.32),
                ("464.84", 0.7),
            ],
        ]);
        let page = Page::new(1, "", &words);
        let tables = find(&[page]);
        assert_eq!(tables.len(), 1);
        let table = &tables[0];
        assert_eq!(table.header, vec!["Date", "Description", "Debit", "Credit"]);
        assert_eq!(
            table.rows[0],
            vec!["01/01/2023", "Direct Deposit", "", "326.73"]
        );
        assert_eq!(
            table.rows[1],
            vec!["03/01/2023", "Check Deposit", "464.84", ""]
        );
        assert!(table.bbox.is_some());
    }

    #[test]
    fn delimited_text_makes_a_table() {
        let text = "Statement\ndate | description | amount\n2025-01-13 | Rent | -808.82\n2025-01-14 | Pay | 1,200.00\nThanks";
        let page = Page::new(1, text, &[]);
        let tables = find(&[page]);
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].header, vec!["date", "description", "amount"]);
        assert_eq!(tables[0].rows.len(), 2);
        assert_eq!(tables[0].lines, [1, 3]);
    }

    #[test]
    fn spreadsheet_rows_without_trailing_cells_stay_in_their_table() {
        let text = "Sheet1\ndate | description | amount | note\n2025-01-13 | Rent | -808.82\n2025-01-14 | Pay | 1,200.00 | bonus";
        let tables = find(&[Page::new(1, text, &[])]);
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].rows[0], vec!["2025-01-13", "Rent", "-808.82", ""]);
        assert_eq!(tables[0].rows.len(), 2);
    }

    #[test]
    fn statement_lines_make_a_table() {
        let text = "Opening balance 100.00\n01/02/2024 Card purchase Tesco 12.50 87.50\n\n02/02/2024 Salary 1,000.00 1,087.50\nClosing";
        let tables = find(&[Page::new(1, text, &[])]);
        assert_eq!(tables.len(), 1);
        assert_eq!(
            tables[0].rows[0],
            vec!["01/02/2024", "Card purchase Tesco", "12.50", "87.50"]
        );
        assert_eq!(
            tables[0].header,
            vec!["date", "description", "amount", "balance"]
        );
    }

    #[test]
    fn key_value_lines_are_not_tables() {
        let text = "Name:  John\nDate:  2024-01-01\nTotal:  5.00";
        assert!(find(&[Page::new(1, text, &[])]).is_empty());
    }
}
