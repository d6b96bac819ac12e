# Sent every week to {{company_name}} ({{external_id}}): open deals by stage.
dbconn = pq.dbconnect(pq.DW_NAME)
rows = dbconn.fetch(pq.DW_NAME, 'pipedrive', 'deals', where="status = 'open'")
print(f"{len(rows)} open deals")
