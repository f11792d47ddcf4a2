#!/usr/bin/env python3
"""Drives smppscope serve's web UI in headless Chromium (selenium + chromedriver) as a user would, and prints what
each view showed as one JSON object: the search results for a message id, the session's ladder diagram after
clicking a result, the fields shown for the clicked PDU, the message view, the analysis and live views, and every
message the browser's console logged. Screenshots of the views go to --screenshots when given."""

import argparse
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--message-id", required=True)
    parser.add_argument("--screenshots")
    parser.add_argument("--hostile", action="store_true",
                        help="only search the id, open its session, click its submit; report what the page shows")
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1500,1000", "--user-data-dir=/tmp/smppscope-ui-%d" % time.time_ns()):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    wait = WebDriverWait(driver, 20)
    result = {}

    def shot(name):
        if args.screenshots:
            driver.save_screenshot("%s/%s.png" % (args.screenshots, name))

    if args.hostile:
        try:
            hostile(driver, wait, args, result)
        finally:
            result["console"] = [{"level": e["level"], "message": e["message"]} for e in driver.get_log("browser")]
            driver.quit()
        json.dump(result, sys.stdout)
        return
    try:
        # Search: type the message id into the form and submit it.
        driver.get(args.url + "/#/search")
        box = wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#search-form input[name=message_id]")))
        box.send_keys(args.message_id)
        driver.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#search-results tr.pdu-row")))
        rows = driver.find_elements(By.CSS_SELECTOR, "#search-results tr.pdu-row")
        result["search"] = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]
        result["search_refs"] = [row.get_attribute("data-ref") for row in rows]
        shot("search")

        # Click the submit_sm_resp that gave the id: the session opens at it, as a ladder diagram.
        chosen = next((row for row in rows if row.find_elements(By.TAG_NAME, "td")[4].text == "submit_sm_resp"), rows[0])
        result["clicked"] = chosen.get_attribute("data-ref")
        result["clicked_session"] = chosen.find_elements(By.TAG_NAME, "td")[1].text
        chosen.click()
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "svg#ladder g.pdu.selected")))
        groups = driver.find_elements(By.CSS_SELECTOR, "svg#ladder g.pdu")
        result["ladder"] = [{"ref": g.get_attribute("data-ref"), "command": g.get_attribute("data-command"),
                             "texts": [t.text for t in g.find_elements(By.TAG_NAME, "text")]} for g in groups[:60]]
        result["ladder_length"] = len(groups)
        result["selected"] = driver.find_element(By.CSS_SELECTOR, "svg#ladder g.pdu.selected").get_attribute("data-ref")
        result["linked"] = [g.get_attribute("data-ref") for g in driver.find_elements(By.CSS_SELECTOR, "svg#ladder g.pdu.linked")]
        result["summary"] = driver.find_element(By.ID, "session-summary").text
        result["pcap_link"] = driver.find_element(By.ID, "download-pcap").get_attribute("href")
        fields = {}
        for row in driver.find_elements(By.CSS_SELECTOR, "#field-table tr"):
            fields[row.find_element(By.TAG_NAME, "th").text] = row.find_element(By.TAG_NAME, "td").text
        result["fields"] = fields
        shot("session")

        # A click on another PDU shows its fields.
        request = driver.find_element(By.CSS_SELECTOR, "svg#ladder g.pdu[data-command=submit_sm]")
        driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", request)
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "svg#ladder g.pdu.selected").get_attribute("data-ref")
                   == request.get_attribute("data-ref"))
        result["clicked_request"] = {"ref": request.get_attribute("data-ref"),
                                     "fields": {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
                                                for row in driver.find_elements(By.CSS_SELECTOR, "#field-table tr")}}

        # The message view.
        driver.get(args.url + "/#/message/" + args.message_id)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#message-parts tr")) > 1)
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "svg#ladder g.pdu")))
        result["message_parts"] = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                                   for row in driver.find_elements(By.CSS_SELECTOR, "#message-parts tr")[1:]]
        result["message_ladder"] = [g.get_attribute("data-command") for g in driver.find_elements(By.CSS_SELECTOR, "svg#ladder g.pdu")]
        shot("message")

        # The analysis of the session, as a report in the page.
        driver.get(args.url + "/#/analyze?session=" + result["clicked_session"])
        frame = wait.until(ready.presence_of_element_located((By.ID, "report")))
        driver.switch_to.frame(frame)
        wait.until(ready.presence_of_element_located((By.TAG_NAME, "svg")))
        result["analysis_text"] = driver.find_element(By.TAG_NAME, "body").text[:4000]
        driver.switch_to.default_content()
        shot("analyze")

        # The live view: counters from the event stream, the newest sessions.
        driver.get(args.url + "/#/live")
        wait.until(lambda d: d.find_elements(By.ID, "live-pdus") and d.find_element(By.ID, "live-pdus").text != "")
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#live-sessions tr.session-row")))
        result["live_pdus"] = driver.find_element(By.ID, "live-pdus").text
        result["live_sessions"] = len(driver.find_elements(By.CSS_SELECTOR, "#live-sessions tr.session-row"))
        time.sleep(1.5)
        shot("live")

        # Sessions list.
        driver.get(args.url + "/#/sessions")
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#session-list tr.session-row")))
        result["sessions"] = len(driver.find_elements(By.CSS_SELECTOR, "#session-list tr.session-row"))
        shot("sessions")
    finally:
        result["console"] = [{"level": entry["level"], "message": entry["message"]} for entry in driver.get_log("browser")]
        driver.quit()
    json.dump(result, sys.stdout)


def hostile(driver, wait, args, result):
    """Text from the store that looks like markup must show as text: nothing of it runs or becomes an element."""
    driver.get(args.url + "/#/search")
    box = wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#search-form input[name=message_id]")))
    box.send_keys(args.message_id)
    driver.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#search-results tr.pdu-row")))
    rows = driver.find_elements(By.CSS_SELECTOR, "#search-results tr.pdu-row")
    result["search"] = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    rows[0].click()
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "svg#ladder g.pdu")))
    submit = driver.find_element(By.CSS_SELECTOR, "svg#ladder g.pdu[data-command=submit_sm]")
    driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", submit)
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#field-table")))
    result["fields"] = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
                        for row in driver.find_elements(By.CSS_SELECTOR, "#field-table tr")}
    result["heading"] = driver.find_element(By.TAG_NAME, "h2").text
    result["title"] = driver.title
    result["injected"] = len(driver.find_elements(By.CSS_SELECTOR, "main img, main script, main b, svg img"))


if __name__ == "__main__":
    main()
