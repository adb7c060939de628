"""The analyst's and admin's pages (issue 13): de-identified exports through prt.data's writers,
"run the analysis" as a background job with kept, reproducible reports, and the searchable audit
trail for admins."""
