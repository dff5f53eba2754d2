//! Paging and sorting of collections: `page` (0-based), `size` (default 100, at
//! most 1000), `sort=field,asc|desc` (repeatable). The HTTP side (headers, the
//! HAL envelope) lives in the runtime crate; these are the plain values.

use serde::{Deserialize, Serialize};

pub const DEFAULT_PAGE_SIZE: u64 = 100;
pub const MAX_PAGE_SIZE: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Asc,
    Desc,
}

/// One `sort=field,dir` parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub field: String,
    pub direction: Direction,
}

impl Sort {
    /// Parses `field` or `field,asc|desc`. The field name is checked by the caller
    /// against what the collection can sort by.
    pub fn parse(s: &str) -> Result<Sort, String> {
        let mut parts = s.splitn(2, ',');
        let field = parts.next().unwrap_or("").trim();
        if field.is_empty() {
            return Err("sort: a field name is required".into());
        }
        let direction = match parts.next().map(|d| d.trim().to_ascii_lowercase()) {
            None => Direction::Asc,
            Some(d) if d == "asc" || d.is_empty() => Direction::Asc,
            Some(d) if d == "desc" => Direction::Desc,
            Some(d) => return Err(format!("sort: direction must be asc or desc, not '{d}'")),
        };
        Ok(Sort {
            field: field.to_string(),
            direction,
        })
    }
}

/// A validated page request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub size: u64,
    pub sort: Vec<Sort>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 0,
            size: DEFAULT_PAGE_SIZE,
            sort: Vec::new(),
        }
    }
}

impl PageRequest {
    pub fn offset(&self) -> u64 {
        self.page.saturating_mul(self.size)
    }
}

/// The Spring-style page metadata of the HAL envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    pub size: u64,
    pub total_elements: u64,
    pub total_pages: u64,
    pub number: u64,
}

impl PageMeta {
    pub fn new(req: &PageRequest, total: u64) -> Self {
        let total_pages = if req.size == 0 {
            0
        } else {
            total.div_ceil(req.size)
        };
        PageMeta {
            size: req.size,
            total_elements: total,
            total_pages,
            number: req.page,
        }
    }
}

/// A page of results plus the total count of the whole collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub request: PageRequest,
}

/// `{"content": [...], "page": {...}}` for clients that ask for `application/hal+json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageEnvelope<T> {
    pub content: Vec<T>,
    pub page: PageMeta,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_parses_field_and_direction() {
        assert_eq!(Sort::parse("name").unwrap().direction, Direction::Asc);
        let s = Sort::parse("createdAt,DESC").unwrap();
        assert_eq!(s.field, "createdAt");
        assert_eq!(s.direction, Direction::Desc);
        assert!(Sort::parse(",asc").is_err());
        assert!(Sort::parse("name,sideways").is_err());
    }

    #[test]
    fn page_meta_counts_pages() {
        let req = PageRequest {
            page: 1,
            size: 10,
            sort: vec![],
        };
        let m = PageMeta::new(&req, 25);
        assert_eq!(m.total_pages, 3);
        assert_eq!(m.number, 1);
    }
}
