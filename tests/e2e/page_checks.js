// What a person would run into on a page, checked in the page itself (tests/e2e/web.py
// loads this file into it): controls covered by something else, and controls too small to tap.
(() => {
  const describe = (element) =>
    `${element.tagName.toLowerCase()} "${element.getAttribute("aria-label") || element.textContent.trim().slice(0, 30)}"`;

  // Controls in the window that a tap at their centre would not reach, within the open dialog
  // when one is open (a modal dialog covers the rest on purpose).
  const covered = () => {
    const scope = document.querySelector("dialog[open]") || document;
    const controls = scope.querySelectorAll('button, a[href], input, select, summary, [tabindex="0"]');
    return [...controls]
      .filter((element) => {
        const box = element.getBoundingClientRect();
        if (box.width < 2 || box.height < 2 || getComputedStyle(element).visibility === "hidden") return false;
        const x = box.left + box.width / 2;
        const y = box.top + box.height / 2;
        if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return false;
        const top = document.elementFromPoint(x, y);
        if (!top) return true;
        const labels = element.labels ? [...element.labels] : [];
        return !(element.contains(top) || top.contains(element) || labels.some((label) => label.contains(top)));
      })
      .map(describe);
  };

  // Controls under 44 px tall (a checkbox or radio button: its label), and icon buttons under
  // 44 px wide (WCAG 2.5.5).
  const smallTargets = () =>
    [...document.querySelectorAll("button, a.button, select, input, summary")]
      .filter((element) => {
        const box = element.getBoundingClientRect();
        if (box.width === 0 || element.closest(".visually-hidden")) return false;
        if (["checkbox", "radio"].includes(element.type)) {
          const label = element.closest("label") || (element.labels && element.labels[0]);
          return !label || label.getBoundingClientRect().height < 43.5;
        }
        return box.height < 43.5 || (element.classList.contains("icon") && box.width < 43.5);
      })
      .map((element) => `${describe(element)} ${Math.round(element.getBoundingClientRect().height)} px`);

  window.pageChecks = { covered, smallTargets };
})();
